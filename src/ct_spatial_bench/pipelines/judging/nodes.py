"""Nodes that pool every model's predictions and judge them."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

logger = logging.getLogger(__name__)


def pool_predictions(**predictions_by_model: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """All models' predictions in one list, each checked; model order is by name."""
    from ct_spatial_bench.records import validate_prediction

    pooled = []
    for model in sorted(predictions_by_model):
        for i, pred in enumerate(predictions_by_model[model], start=1):
            validate_prediction(pred, where=f"{model} predictions, item {i}")
            pooled.append(pred)
    return pooled


def pool_prediction_files(prediction_files: dict[str, Callable[[], list]]) -> list[dict[str, Any]]:
    """Pool whatever prediction files exist (a standalone judging run after cluster jobs)."""
    if not prediction_files:
        raise FileNotFoundError(
            "no predictions found under data/07_model_output/predictions: run an inference_<model> "
            "pipeline first"
        )
    return pool_predictions(**{key: load() for key, load in prediction_files.items()})


def judge_all(
    qa_items: list[dict[str, Any]], predictions: list[dict[str, Any]], params: dict[str, Any]
) -> list[dict[str, Any]]:
    """One verdict per (prediction, judge) for the judges named in ``params.judges``."""
    from ct_spatial_bench.judges.registry import create_judge
    from ct_spatial_bench.judges.runner import judge_predictions

    judges = []
    for spec in params["judges"]:
        name, config = (spec, {}) if isinstance(spec, str) else (spec["name"], spec.get("config"))
        judges.append(create_judge(name, config))
    verdicts = judge_predictions(judges, qa_items, predictions)
    failed = sum(v["verdict"] == "failed" for v in verdicts)
    logger.info("judging: %d verdicts from %d judges, %d failed", len(verdicts), len(judges), failed)
    return verdicts
