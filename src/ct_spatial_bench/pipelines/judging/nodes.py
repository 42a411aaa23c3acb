"""Nodes that pool every model's predictions and judge them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def pool_predictions(**predictions_by_model: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """All models' predictions in one list, each checked; model order is by name.

    A second prediction for the same (model, qa_id) stops here, naming both lines, before any
    judge is asked or any verdict written (which of the two is the answer is not ours to guess).
    """
    from ct_spatial_bench.records import RecordError, validate_prediction

    pooled, first_line = [], {}
    for model in sorted(predictions_by_model):
        for i, pred in enumerate(predictions_by_model[model], start=1):
            where = f"{model} predictions, record {i}"
            validate_prediction(pred, where=where)
            key = (pred["model"], pred["qa_id"])
            if key in first_line:
                raise RecordError(f"{where}: duplicate prediction for model {key[0]!r}, qa_id "
                                  f"{key[1]!r} (first at {first_line[key]})")
            first_line[key] = where
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


def judge_all(
    qa_items: list[dict[str, Any]],
    predictions: list[dict[str, Any]],
    params: dict[str, Any],
    api_keys: dict[str, str | None] | None = None,
) -> list[dict[str, Any]]:
    """One verdict per (prediction, judge) for the judges in ``params.judges``, with the keys of
    the conf credentials; the plan is printed first, and ``dry_run`` stops after it."""
    from ct_spatial_bench.judges.runner import judge_as_configured

    return judge_as_configured(qa_items, predictions, params, api_keys,
                               enforce_failure_policy=False)  # stop_if_judges_failed does


def stop_if_judges_failed(verdicts: list[dict[str, Any]], params: dict[str, Any],
                          judge_token_usage: list[dict[str, Any]]) -> None:
    """After the verdicts and the usage are written: stop the run (non-zero exit) naming each
    judge whose failed share is above ``judging.max_failed_share``."""
    from ct_spatial_bench.judges.runner import MAX_FAILED_SHARE, check_failed_share

    check_failed_share(verdicts, params.get("max_failed_share", MAX_FAILED_SHARE))


def summarise_judge_usage(verdicts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Verdicts, failed and tokens (prompt, completion, total) per judge."""
    from ct_spatial_bench.judges.costs import token_usage

    return token_usage(verdicts)
