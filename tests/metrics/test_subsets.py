"""needs_image and human_rejected subsets, by hand."""

import json

import pytest

from ct_spatial_bench.metrics.subsets import human_rejected_items, subset_accuracy, wrong_items

ITEMS = [{"qa_id": f"q{i}", "case_id": f"c{i // 2}", "question": f"Where is finding {i}?",
          "answer": f"answer {i}"} for i in range(6)]


def test_needs_image_is_what_the_prior_gets_wrong():
    decisions = {("blind", "q0"): "correct", ("blind", "q1"): "incorrect",
                 ("blind", "q2"): "incorrect", ("blind", "q3"): "failed"}
    assert wrong_items(decisions, "blind") == {"q1", "q2"}


def test_subset_accuracy_beside_the_full_figure():
    preds = [{"model": m, "qa_id": f"q{i}", "status": "ok"} for m in ("m", "m_blind")
             for i in range(6)]
    preds[0]["status"] = "error"  # m's q0: an error counts incorrect
    preds[6].update(blind=True, base_model="m")
    preds[7].update(blind=True, base_model="m")
    outcome = {"q0": "correct", "q1": "correct", "q2": "incorrect", "q3": "correct",
               "q4": "failed", "q5": "correct"}
    decisions = {("m", q): d for q, d in outcome.items()}
    decisions.update({("m_blind", f"q{i}"): "incorrect" if i in (1, 2) else "correct"
                      for i in range(6)})
    rows = {(r["model"], r["subset"]): r for r in subset_accuracy(
        ITEMS, preds, decisions, {"needs_image": {"q0", "q1", "q3"}},
        twin_of={"m": "m_blind"}, n_boot=50)}
    # all: q0 (error -> wrong), q1 right, q2 wrong, q3 right, q5 right; q4 undecided
    assert (rows[("m", "all")]["n"], rows[("m", "all")]["accuracy"]) == (5, pytest.approx(0.6))
    assert (rows[("m", "needs_image")]["n"],
            rows[("m", "needs_image")]["accuracy"]) == (3, pytest.approx(2 / 3))
    # the twin got q1 and q2 wrong: m is right on q1, wrong on q2
    assert rows[("m", "needs_image_twin")]["accuracy"] == pytest.approx(0.5)
    assert ("m_blind", "needs_image_twin") not in rows


def test_human_rejected_are_the_spatial_items_the_human_turned_down(tmp_path):
    review = [
        {"type": "spatial", "case": "c0", "question": "Where is finding 0?", "answer": "answer 0",
         "human": False, "gemini": True},   # kept by the filter, rejected by the human
        {"type": "spatial", "case": "c0", "question": "Where is finding 1?", "answer": "answer 1",
         "human": True, "gemini": False},   # the other way round
        {"type": "relevant", "case": "c1", "question": "Where is finding 2?",
         "answer": "answer 2", "human": False, "gemini": True},  # a relevance review
        {"type": "spatial", "case": "c9", "question": "Where is finding 3?",
         "answer": "answer 3", "human": False, "gemini": True},  # another case: no match
    ]
    path = tmp_path / "gemini_human_disagreements.json"
    path.write_text(json.dumps(review))
    assert human_rejected_items(ITEMS, path) == {"q0"}
