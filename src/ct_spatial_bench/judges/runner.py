"""Applies judges to predictions, joined to the QA by ``qa_id``, one verdict per (item, judge)."""

from __future__ import annotations

import logging
import time
from typing import Any

from ct_spatial_bench.judges.base import FAILED, INCORRECT, Judge
from ct_spatial_bench.records import RecordError, index_by

logger = logging.getLogger(__name__)


def judge_predictions(
    judges: list[Judge],
    qa_items: list[dict[str, Any]],
    predictions: list[dict[str, Any]],
) -> list[dict[str, Any]]:
    """Return a verdict per (prediction, judge).

    A prediction that errored is ``incorrect`` without asking a judge (the model failed, and a paid
    judge call would be wasted); a judge that raises gives ``failed`` for that item, never
    ``incorrect``. A prediction whose qa_id is not in the benchmark is an error naming it.
    """
    from tqdm.auto import tqdm

    qa_by_id = index_by(qa_items)
    verdicts = []
    for judge in judges:
        for pred in tqdm(predictions, desc=f"judge {judge.name}", leave=False):
            item = qa_by_id.get(pred["qa_id"])
            if item is None:
                raise RecordError(
                    f"prediction of {pred['model']} for unknown qa_id {pred['qa_id']!r}"
                )
            verdicts.append(_verdict(judge, item, pred))
    return verdicts


def _verdict(judge: Judge, item: dict[str, Any], pred: dict[str, Any]) -> dict[str, Any]:
    base = {
        "qa_id": pred["qa_id"], "model": pred["model"], "judge": judge.name,
        "judge_model": judge.model, "prompt_version": judge.prompt_version,
    }
    if pred.get("status") == "error":
        return {**base, "verdict": INCORRECT, "reason": f"prediction error: {pred.get('error')}",
                "raw": "", "tokens": {}, "latency_s": 0.0}
    started = time.perf_counter()
    try:
        outcome = judge.judge(item["question"], item["answer"], pred["prediction"])
        verdict, reason, raw, tokens = outcome.verdict, outcome.reason, outcome.raw, outcome.tokens
    except Exception as exc:  # noqa: BLE001 - a judge failure is 'failed', not 'incorrect'
        logger.warning("judge %s failed on %s/%s: %s", judge.name, pred["model"], pred["qa_id"], exc)
        verdict, reason, raw, tokens = FAILED, f"{type(exc).__name__}: {exc}", "", {}
    return {**base, "verdict": verdict, "reason": reason, "raw": raw, "tokens": tokens,
            "latency_s": round(time.perf_counter() - started, 6)}
