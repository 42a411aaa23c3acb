"""Nodes that pool every model's predictions and judge them."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

# A real import (light, no Kedro): Kedro reads the nodes' type hints.
from ct_spatial_bench.records import Prediction


def pool_predictions(**predictions_by_model: list[Mapping[str, Any]]) -> list[Prediction]:
    """All models' predictions in one list, each checked (a ``Prediction``); model order is by
    name.

    A second prediction for the same (entry, qa_id) (``records.entry_of``: a model's blind
    control is an entry of its own) stops here, naming both lines, before any
    judge is asked or any verdict written (which of the two is the answer is not ours to guess).
    A prediction whose value is no answer (null, not text, over-long) becomes a data error
    (``records.checked_prediction``), never a wrong answer.
    """
    from ct_spatial_bench.records import RecordError, checked_prediction

    pooled, first_line = [], {}
    for model in sorted(predictions_by_model):
        for i, pred in enumerate(predictions_by_model[model], start=1):
            where = f"{model} predictions, record {i}"
            pred = checked_prediction(pred, where)
            key = pred.key
            if key in first_line:
                raise RecordError(f"{where}: duplicate prediction for model {key[0]!r}, qa_id "
                                  f"{key[1]!r} (first at {first_line[key]})")
            first_line[key] = where
            pooled.append(pred)
    return pooled


def pool_current_predictions(qa_items: list[dict[str, Any]],
                             **predictions_by_model: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The pooled predictions that answer the QA set in force, by (model, qa_id) and question
    fingerprint (``identity.current_predictions``); the others, for questions removed or changed
    since they were answered, are listed in the log and left out, never judged or scored."""
    from ct_spatial_bench.identity import current_predictions

    return current_predictions(qa_items, pool_predictions(**predictions_by_model), "judging")


def pool_prediction_files(qa_items: list[dict[str, Any]],
                          prediction_files: dict[str, Callable[[], list]]) -> list[dict[str, Any]]:
    """Pool whatever prediction files exist (a standalone judging run after cluster jobs), as
    ``pool_current_predictions`` does."""
    if not prediction_files:
        raise FileNotFoundError(
            "no prediction files found (prediction_files, under the run root's "
            "07_model_output/predictions): run an inference_<model> pipeline first"
        )
    return pool_current_predictions(qa_items,
                                    **{key: load() for key, load in prediction_files.items()})


def judge_all(
    qa_items: list[dict[str, Any]],
    predictions: list[dict[str, Any]],
    params: dict[str, Any],
    api_keys: dict[str, str | None] | None = None,
) -> list[dict[str, Any]]:
    """One verdict per (prediction, judge) for the judges in ``params.judges``, with the keys of
    the conf credentials; the plan is printed first, and ``dry_run`` stops after it."""
    from ct_spatial_bench.judges.engine import judge_as_configured

    return judge_as_configured(qa_items, predictions, params, api_keys,
                               enforce_failure_policy=False)  # stop_if_judges_failed does


def stop_if_judges_failed(verdicts: list[dict[str, Any]], params: dict[str, Any],
                          judge_token_usage: list[dict[str, Any]]) -> None:
    """After the verdicts and the usage are written: stop the run (non-zero exit) naming each
    judge whose failed share is above ``judging.max_failed_share``."""
    from ct_spatial_bench.judges.engine import MAX_FAILED_SHARE, check_failed_share

    check_failed_share(verdicts, params.get("max_failed_share", MAX_FAILED_SHARE))


def summarise_judge_usage(verdicts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Verdicts, failed and tokens (prompt, completion, total) per judge."""
    from ct_spatial_bench.judges.planning import token_usage

    return token_usage(verdicts)


def write_report_section(predictions: list[dict[str, Any]], verdicts: list[dict[str, Any]]
                         ) -> list[dict[str, Any]]:
    """``report_section_judging``: the offline judge's length domain against each model it
    judged (no section when it judged none)."""
    from ct_spatial_bench.judges.offline.training import answers_outside_domain
    from ct_spatial_bench.records import entry_of
    from ct_spatial_bench.reporting.sections import section_rows
    from ct_spatial_bench.reporting.validity import offline_domain_html

    judged = {entry_of(v) for v in verdicts if v["judge"] == "offline"}
    if not judged:
        return []
    rows = answers_outside_domain([p for p in predictions if entry_of(p) in judged])
    return section_rows("judging.offline_domain",
                        {"The offline judge's domain": offline_domain_html(rows)})
