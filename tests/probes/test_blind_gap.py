"""The blind gap pairs a model with its blind twin by qa_id, per category, with McNemar."""

from __future__ import annotations

import math

from ct_spatial_bench.metrics.subsets import blind_pairs
from ct_spatial_bench.probes.blind_gap import blind_gap
from ct_spatial_bench.spatial.categories import DEPTH, LATERALITY


def _pred(model, qa_id, **extra):
    return {"model": model, "qa_id": qa_id, "prediction": "x", "status": "ok", **extra}


QA = [{"qa_id": f"q{i}", "categories": [LATERALITY] if i < 6 else [DEPTH]} for i in range(10)]


def test_pairs_come_from_blind_controls_and_configuration():
    preds = [_pred("m3d", "q0"), _pred("m3d_blind", "q0", blind=True, base_model="m3d"),
             _pred("geometry", "q0"), _pred("blind", "q0")]
    assert blind_pairs(preds, {"geometry": "blind", "absent": "blind"}) == {
        "geometry": "blind", "m3d": "m3d_blind"}


def test_gap_per_category_and_flag():
    preds = [_pred(m, q["qa_id"]) for m in ("seeing", "guessing") for q in QA]
    decisions = {}
    for i, q in enumerate(QA):
        decisions[("seeing", q["qa_id"])] = "correct" if i < 6 else "incorrect"
        # listed in reverse: a join by position would pair the wrong items
        decisions[("guessing", QA[-1 - i]["qa_id"])] = "incorrect" if i < 6 else "correct"
    rows = {r["category"]: r for r in blind_gap(QA, decisions, preds, {"seeing": "guessing"})}
    assert rows["All"]["n_shared"] == 10
    assert rows[LATERALITY]["blind_gap"] == 1.0 - 4 / 6  # guessing is right on q0..q3
    assert rows[LATERALITY]["image_only"] == 2 and not rows[LATERALITY]["flagged"]
    assert rows[DEPTH]["blind_gap"] == 0.0 and rows[DEPTH]["flagged"]
    assert 0 < rows["All"]["p_value"] <= 1
    assert math.isnan(rows["Adjacency & Containment"]["blind_gap"])
    assert rows["Adjacency & Containment"]["flagged"]
