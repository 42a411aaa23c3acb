"""Nodes that fit the offline judge on upstream's public jury verdicts and evaluate it."""

from __future__ import annotations

import logging
import time
from typing import Any

logger = logging.getLogger(__name__)


def build_training_table(params: dict[str, Any]) -> dict[str, Any]:
    """Upstream's QA, predictions and verdicts (joined by key) as features and jury labels."""
    from ct_spatial_bench.judges.offline.training import answer_length_domain, training_table
    from ct_spatial_bench.reproduction.summary import load_upstream_benchmark

    loaded = load_upstream_benchmark(params["source_dir"])
    started = time.perf_counter()
    table = training_table(loaded["qa_items"], loaded["predictions"], loaded["verdicts"],
                           rule=params.get("jury_rule", "mean066"))
    table["sources"] = [{k: s[k] for k in ("model", "kind", "path", "sha256", "rows")}
                        for s in loaded["sources"]]
    table["feature_seconds"] = round(time.perf_counter() - started, 1)
    table["answer_words"] = answer_length_domain(loaded["predictions"])
    logger.info("offline judge: %d labelled items, features in %.0f s", len(table["y"]),
                table["feature_seconds"])
    return table


def evaluate_across_models(table: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    """Train on each model, test on the other(s): kappa, accuracy, categories, disagreements."""
    from ct_spatial_bench.judges.offline.evaluation import cross_model_evaluation

    evaluation = cross_model_evaluation(table, params.get("grid"), params.get("folds", 4),
                                        params.get("features", "text"), params.get("ablation"),
                                        params.get("cv_repeats", 2))
    evaluation["feature_seconds"] = table.get("feature_seconds")
    return evaluation


def render_evaluation(evaluation: dict[str, Any]) -> str:
    from ct_spatial_bench.judges.offline.evaluation import evaluation_markdown

    return evaluation_markdown(evaluation)


def train_on_every_model(table: dict[str, Any], evaluation: dict[str, Any],
                         params: dict[str, Any]) -> dict[str, Any]:
    """The shipped artefact: fitted on all labelled items, with the cross-model figures."""
    import numpy as np

    from ct_spatial_bench.judges.offline.training import (
        build_artefact,
        feature_columns,
        fit_offline_judge,
    )

    X, names = feature_columns(table, params.get("features", "text"))
    ensemble, threshold, selection = fit_offline_judge(
        X, table["y"], table["groups"], params.get("grid"), params.get("folds", 4),
        table.get("votes"), params.get("cv_repeats", 2))
    models = table["models"]
    training = {"label": f"jury {params.get('jury_rule', 'mean066')}",
                "rows": selection["params"].get("label", "jury"),
                "judges": table.get("judges", []),
                "items": {m: int((models == m).sum()) for m in sorted(set(models.tolist()))},
                "correct_rate": round(float(np.mean(table["y"])), 4),
                "sources": table.get("sources", []),
                "answer_words": table.get("answer_words"),
                "retrain": "kedro run --pipelines train_offline_judge"}
    summary = {f"{d['train']}->{d['test']}": {
        "kappa": d["offline"]["kappa"], "accuracy": d["offline"]["accuracy"],
        "rule_kappa": d["baselines"]["rule"]["kappa"]} for d in evaluation["directions"]}
    return build_artefact(ensemble, threshold, selection, training, names, summary)
