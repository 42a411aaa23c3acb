"""Nodes that pool every model's predictions and judge them."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from ct_spatial_bench.errors import PlannedStop

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
            "no prediction files found (prediction_files, under the run root's "
            "07_model_output/predictions): run an inference_<model> pipeline first"
        )
    return pool_predictions(**{key: load() for key, load in prediction_files.items()})


class DryRunStop(PlannedStop, RuntimeError):
    """Raised after a dry run has printed its plan, so that nothing downstream runs or is paid."""


def judge_all(
    qa_items: list[dict[str, Any]],
    predictions: list[dict[str, Any]],
    params: dict[str, Any],
    api_keys: dict[str, str | None] | None = None,
) -> list[dict[str, Any]]:
    """One verdict per (prediction, judge) for the judges in ``params.judges``.

    LLM judges take their keys from ``api_keys`` (conf credentials, read from the environment); a
    judge without one is skipped with a warning unless ``require_all_judges``. The plan (calls and
    estimated tokens per judge) is logged before anything is spent; ``dry_run`` stops there.
    """
    from ct_spatial_bench.judges.costs import format_plan, plan_judging
    from ct_spatial_bench.judges.registry import build_judges
    from ct_spatial_bench.judges.runner import judge_predictions

    defaults = {"prompts_dir": params["prompts_dir"]} if params.get("prompts_dir") else {}
    dry_run = params.get("dry_run", False)
    # a dry run prices every configured judge, keys or not: nothing is sent
    judges = build_judges(params["judges"], api_keys, params.get("require_all_judges", False),
                          defaults, placeholder_key="unused-in-a-dry-run" if dry_run else None)
    if not judges and params.get("fallback_judge"):  # keyless runs judge offline
        logger.warning("judging: no configured judge has its API key; using the %r judge "
                       "(judging.fallback_judge)", params["fallback_judge"])
        judges = build_judges([params["fallback_judge"]])
    if not judges:
        raise RuntimeError("judging: no judge is available (every configured judge lacks an API "
                           "key); set the keys or add the offline 'rule' judge to judging.judges")
    cache_path, refresh = params.get("cache_path"), params.get("refresh", False)
    plan = plan_judging(judges, qa_items, predictions, cache_path, refresh)
    if plan:
        print(format_plan(plan, params.get("prices")))  # noqa: T201 - read before money is spent
    if dry_run:
        raise DryRunStop("judging.dry_run is true: plan printed above, nothing was called")
    verdicts = judge_predictions(judges, qa_items, predictions, cache_path=cache_path,
                                 refresh=refresh)
    failed = sum(v["verdict"] == "failed" for v in verdicts)
    logger.info("judging: %d verdicts from %d judges, %d failed", len(verdicts), len(judges), failed)
    return verdicts


def summarise_judge_usage(verdicts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Verdicts, failed and tokens (prompt, completion, total) per judge."""
    from ct_spatial_bench.judges.costs import token_usage

    return token_usage(verdicts)
