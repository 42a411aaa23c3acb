"""The offline judge's cross-model evaluation: on a made-up table, and on upstream's files."""

from __future__ import annotations

import numpy as np
import pytest

from ct_spatial_bench.judges.offline.evaluation import (agreement, cross_model_evaluation,
                                                        disagreements, evaluation_markdown,
                                                        per_category)
from ct_spatial_bench.judges.offline.features import FEATURE_NAMES
from support.project import UPSTREAM_REFERENCE as UPSTREAM


def test_agreement_counts_the_confusion_matrix():
    result = agreement(np.array([1, 1, 0, 0, 0]), np.array([1, 0, 1, 0, 0]))
    assert result["confusion"] == {"jury_correct_judge_correct": 1,
                                   "jury_correct_judge_incorrect": 1,
                                   "jury_incorrect_judge_correct": 1,
                                   "jury_incorrect_judge_incorrect": 2}
    assert result["accuracy"] == 0.6 and result["n"] == 5


def _table(n: int = 240, seed: int = 0) -> dict:
    """Two models whose label follows two features, with some noise."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(size=(n, len(FEATURE_NAMES))).astype(np.float32)
    y = ((X[:, 0] + X[:, 1] > 1.0) ^ (rng.uniform(size=n) < 0.05)).astype(int)
    models = np.array(["a", "b"] * (n // 2))
    items = [{"qa_id": str(i), "question": "Where is it?" if i % 3 else "Is it left?",
              "answer": "left", "prediction": "right", "categories": ["Laterality"]
              if i % 4 < 2 else ["Adjacency"]} for i in range(n)]
    return {"X": X, "y": y, "models": models, "groups": np.arange(n) % 40, "items": items,
            "feature_names": list(FEATURE_NAMES)}


def test_cross_model_evaluation_trains_on_one_model_and_tests_on_the_other():
    grid = {"learning_rate": [0.1], "max_leaf_nodes": [4], "max_iter": [30]}
    evaluation = cross_model_evaluation(_table(), grid, folds=3)
    assert [(d["train"], d["test"]) for d in evaluation["directions"]] == [("a", "b"), ("b", "a")]
    for direction in evaluation["directions"]:
        assert direction["offline"]["n"] == 120
        assert direction["offline"]["kappa"] > 0.5
        assert {r["category"] for r in direction["per_category"]} == {"Laterality", "Adjacency"}
        assert set(direction["baselines"]) == {"exact_match", "sbert_threshold", "rule"}
    report = evaluation_markdown(evaluation)
    assert "a -> b" in report and "Commonest disagreements" in report


def test_the_training_label_is_chosen_by_cross_validation_on_the_training_side():
    table = _table()
    flipped = np.where(np.arange(len(table["y"])) % 7 == 0, 1 - table["y"], table["y"])
    table["votes"] = np.stack([table["y"], flipped], axis=1).astype(float)
    grid = {"label": ["jury", "judges"], "learning_rate": [0.1], "max_leaf_nodes": [4],
            "max_iter": [30]}
    evaluation = cross_model_evaluation(table, grid, folds=3, ablation=None, repeats=2)
    for direction in evaluation["directions"]:
        assert [p["params"]["label"] for p in direction["cv_grid"]] == ["jury", "judges"]
        best = max(direction["cv_grid"], key=lambda p: p["cv_kappa"])
        assert direction["params"] == best["params"]
        assert direction["cv_kappa"] == best["cv_kappa"]
    assert "| judges |" in evaluation_markdown(evaluation)


def test_disagreements_are_grouped_and_ranked():
    items = [{"qa_id": str(i), "question": q, "answer": "x", "prediction": "y"}
             for i, q in enumerate(["Where?", "Where?", "Is it?", "Where?"])]
    kinds = disagreements(items, np.array([0, 0, 1, 1]), np.array([1, 1, 0, 1]),
                          np.array([0.9, 0.6, 0.2, 0.8]))
    assert kinds[0]["kind"] == "judge correct, jury incorrect; where question"
    assert kinds[0]["count"] == 2 and kinds[0]["examples"][0]["qa_id"] == "0"
    rows = per_category([{"categories": ["A"]}, {"categories": ["A", "B"]}],
                        np.array([1, 0]), np.array([1, 1]))
    assert [(r["category"], r["n"]) for r in rows] == [("A", 2), ("B", 1)]


@pytest.mark.slow
@pytest.mark.skipif(not UPSTREAM.is_dir(), reason=f"upstream reference files absent: {UPSTREAM}")
def test_evaluation_runs_on_a_slice_of_upstreams_verdicts():
    from test_offline_judge import hashed_encoder

    from ct_spatial_bench.judges.offline.features import EmbeddingCache
    from ct_spatial_bench.judges.offline.training import training_table
    from ct_spatial_bench.reproduction.summary import load_upstream_benchmark

    loaded = load_upstream_benchmark(UPSTREAM)
    keep = {}
    predictions = [p for p in loaded["predictions"]
                   if keep.setdefault(p["model"], []).append(p) or len(keep[p["model"]]) <= 400]
    table = training_table(loaded["qa_items"], predictions, loaded["verdicts"],
                           cache=EmbeddingCache(hashed_encoder), progress=False)
    assert set(table["models"].tolist()) == {"radfm", "merlin"}
    assert table["judges"] == ["gemini", "gpt", "qwen"]  # Merlin's Gemini verdicts are not public
    merlin = table["models"] == "merlin"
    assert np.isnan(table["votes"][merlin, 0]).all() and not np.isnan(table["votes"][~merlin]).any()
    grid = {"learning_rate": [0.1], "max_leaf_nodes": [8], "max_iter": [60]}
    evaluation = cross_model_evaluation(table, grid, folds=3)
    for direction in evaluation["directions"]:
        exact = direction["baselines"]["exact_match"]["kappa"]
        assert direction["offline"]["kappa"] > exact


def test_agreement_with_jury_matches_by_key_and_skips_failed():
    from ct_spatial_bench.judges.offline.evaluation import agreement_with_jury

    def verdict(qa_id, judge, value, model="m"):
        return {"qa_id": qa_id, "model": model, "judge": judge, "judge_model": judge,
                "verdict": value}

    jury = [verdict("1", "gpt", "correct"), verdict("1", "qwen", "correct"),
            verdict("2", "gpt", "incorrect"), verdict("2", "qwen", "correct"),
            verdict("3", "gpt", "failed"), verdict("3", "qwen", "failed"),
            verdict("4", "gpt", "incorrect"), verdict("4", "qwen", "incorrect")]
    offline = [verdict("4", "offline", "incorrect"), verdict("1", "offline", "correct"),
               verdict("2", "offline", "correct"), verdict("3", "offline", "correct")]
    result = agreement_with_jury(jury, offline)["m"]
    assert result["offline_n"] == 3 and result["offline_accuracy"] == pytest.approx(2 / 3)
