"""Per-model figures of the mask track and their volume-clustered intervals."""

from __future__ import annotations

from ct_spatial_bench.mask_qa.summary import summarise


def _row(model, qa_id, case, outcome, pair=None, twin_of=None, read="Yes", mirrored=False):
    return {"model": model, "qa_id": qa_id, "case_id": case, "family": "laterality",
            "categories": ["Laterality & Bilateral Symmetry"], "answer_type": "closed",
            "pair_id": pair, "mirrored": mirrored, "twin_of": twin_of, "outcome": outcome,
            "score": None if outcome == "failed" else float(outcome == "correct"), "read": read}


def test_both_right_flip_and_failures():
    rows = [_row("m", "q1", "c1", "correct", "p1", read="Yes"),
            _row("m", "q2", "c1", "wrong", "p1", read="Yes"),
            _row("m", "q3", "c2", "correct", "p2", read="No"),
            _row("m", "q4", "c2", "correct", "p2", read="Yes"),
            _row("m", "q5", "c3", "failed", "p3"),
            _row("m", "q1m", "c1", "wrong", "p1m", twin_of="q1", read="Yes", mirrored=True),
            _row("m", "q3m", "c2", "correct", "p2m", twin_of="q3", read="Yes", mirrored=True)]
    out = {(r["kind"], r["group"]): r for r in summarise(rows, n_boot=100)}
    assert out[("paired", "per item")]["accuracy"] == 0.75   # 3 of 4 answered; failed left out
    assert out[("paired", "per item")]["failed"] == 1
    assert out[("paired", "both right")]["accuracy"] == 0.5  # p2 only
    assert out[("flip", "answer flips with the mirror")]["accuracy"] == 0.5  # q3 flipped
