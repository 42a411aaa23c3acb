"""The train_offline_judge nodes on a made-up table, and the judging fallback to offline."""

from __future__ import annotations

import json

import numpy as np

from ct_spatial_bench.judges.offline.judge import OfflineJudge
from ct_spatial_bench.judges.offline.features import FEATURE_NAMES
from ct_spatial_bench.pipelines.judging.nodes import judge_all
from ct_spatial_bench.pipelines.offline_judge.nodes import (evaluate_across_models,
                                                            render_evaluation,
                                                            train_on_every_model)

PARAMS = {"features": "text", "ablation": None, "folds": 3,
          "grid": {"learning_rate": [0.1], "max_leaf_nodes": [4], "max_iter": [20]}}


def _table(n: int = 200) -> dict:
    rng = np.random.default_rng(1)
    X = rng.uniform(size=(n, len(FEATURE_NAMES))).astype(np.float32)
    exact = FEATURE_NAMES.index("exact_match")
    X[:, exact] = rng.uniform(size=n) > 0.5
    y = X[:, exact].astype(int)
    items = [{"qa_id": str(i), "question": "Where?", "answer": "left", "prediction": "left",
              "categories": ["Laterality"]} for i in range(n)]
    return {"X": X, "y": y, "models": np.array(["a", "b"] * (n // 2)),
            "groups": np.arange(n) % 20, "items": items, "feature_names": list(FEATURE_NAMES)}


def test_nodes_evaluate_then_write_an_artefact_the_judge_loads(tmp_path):
    table = _table()
    evaluation = evaluate_across_models(table, PARAMS)
    assert all(d["offline"]["kappa"] > 0.9 for d in evaluation["directions"])
    assert "a -> b" in render_evaluation(evaluation)
    artefact = train_on_every_model(table, evaluation, PARAMS)
    assert artefact["evaluation"]["a->b"]["kappa"] > 0.9
    assert "sbert_answer_prediction" not in artefact["features"]
    path = tmp_path / "model.json"
    path.write_text(json.dumps(artefact))
    judge = OfflineJudge(model_path=path)
    assert judge.judge("Which side?", "Left", "Left").verdict == "correct"


def test_a_keyless_run_falls_back_to_the_offline_judge(tmp_path, caplog):
    items = [{"qa_id": "c::0", "question": "Which lung?", "answer": "left lung"}]
    preds = [{"qa_id": "c::0", "model": "m", "prediction": "the left lung", "status": "ok"}]
    params = {"judges": ["openai"], "fallback_judge": "offline",
              "cache_path": str(tmp_path / "cache.sqlite")}
    verdicts = judge_all(items, preds, params, {"openai": None})
    assert [(v["judge"], v["verdict"]) for v in verdicts] == [("offline", "correct")]
    assert "fallback_judge" in caplog.text
