"""Jury accuracy per model and per spatial category, with percentile-bootstrap intervals.

Intervals resample volumes (``case_id``), all of a volume's questions together
(statistics.py); the item-level interval is kept beside it (``*_items``) so the design
effect can be read off.

Three ways an item can fall short of a verdict are kept apart, because they mean different things:
- missing: the model has no prediction for the item (an unfinished run) - outside the denominator;
- error: the model was asked and no answer came back (prediction status ``error``: a failed call,
  a timeout, an unreadable volume) - outside the denominator and reported in its own count, since
  a failure is not an answer (a 401 must not put a model at 0.0 on the leaderboard);
- failed: the judges could not decide (every verdict failed, or none was given) - outside the
  denominator, reported in its own count, since it says nothing about the model.
Everything is joined by (entry, qa_id) (``records.entry_of``: a model under its variant, so a
blind control is a row of its own), never by position.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any


from ct_spatial_bench.statistics import bootstrap_ci, cluster_bootstrap_ci
from ct_spatial_bench.records import (CORRECT, FAILED, INCORRECT, ItemKey, RecordError, entry_of,
                                      index_by, index_by_item, qa_item)
from ct_spatial_bench.spatial.categories import CATEGORIES, canonical_category

def volume_of(qa_items: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """qa_id -> the volume it asks about (its case_id; the qa_id itself when an item has none)."""
    return {qa.qa_id: str(qa.qa_id if qa.case_id in (None, "") else qa.case_id)
            for qa in map(qa_item, qa_items)}


def interval_pair(
    values: Sequence[float], clusters: Sequence[str], n_boot: int = 1000, seed: int = 0
) -> dict[str, float]:
    """The volume-clustered interval (ci_low, ci_high) and the item-level one (*_items)."""
    low, high = cluster_bootstrap_ci(values, clusters, n_boot=n_boot, seed=seed)
    item_low, item_high = bootstrap_ci(values, n_boot=n_boot, seed=seed)
    return {"ci_low": low, "ci_high": high, "ci_low_items": item_low, "ci_high_items": item_high}


def effective_decisions(
    decisions: Mapping[ItemKey, str], predictions: Iterable[dict[str, Any]] | None = None
) -> dict[ItemKey, str]:
    """The jury's decisions without the items whose prediction failed (status error).

    A judge may have called an error message anything; there was no answer to decide on, so the
    item is outside every accuracy (and counted in ``n_errors`` instead).
    """
    out = dict(decisions)
    for key, pred in index_by_item(predictions or [], "predictions").items():
        if pred.get("status") == "error":
            out.pop(key, None)
    return out


def accuracy_by_model(
    qa_items: Iterable[dict[str, Any]],
    predictions: Iterable[dict[str, Any]],
    decisions: Mapping[ItemKey, str],
    n_boot: int = 1000,
    seed: int = 0,
) -> list[dict[str, Any]]:
    """One row per model: counts, accuracy = n_correct / n_judged, and its bootstrap intervals
    (accuracy_ci_low/high clustered by volume, accuracy_ci_low_items/high_items by item).

    n_judged counts correct + incorrect decisions; n_errors (the model call failed), n_failed
    (judges could not decide) and n_missing (no prediction) are outside it. A prediction or a
    decision whose qa_id is not among the QA items is an error: it means the inputs do not match.
    """
    qa_items = list(qa_items)
    qa_ids = list(index_by(qa_items, "qa_id"))
    known = set(qa_ids)
    volume = volume_of(qa_items)
    preds = index_by_item(predictions, "predictions")
    for model, qa_id in [*preds, *decisions]:
        if qa_id not in known:
            raise RecordError(f"model {model!r}: qa_id {qa_id!r} is not in the QA items")
    for key in decisions:
        if key not in preds:
            raise RecordError(f"decision for model {key[0]!r}, qa_id {key[1]!r} has no prediction")
    rows = []
    for model in dict.fromkeys(model for model, _ in preds):
        counts = dict.fromkeys(("n_judged", "n_correct", "n_failed", "n_errors", "n_missing"), 0)
        outcomes, volumes = [], []
        for qa_id in qa_ids:
            pred = preds.get((model, qa_id))
            if pred is None:
                counts["n_missing"] += 1
                continue
            if pred.get("status") == "error":
                counts["n_errors"] += 1
                continue
            decision = decisions.get((model, qa_id), FAILED)
            if decision == FAILED:
                counts["n_failed"] += 1
                continue
            outcomes.append(1.0 if decision == CORRECT else 0.0)
            volumes.append(volume[qa_id])
        counts["n_judged"] = len(outcomes)
        counts["n_correct"] = int(sum(outcomes))
        accuracy = counts["n_correct"] / len(outcomes) if outcomes else float("nan")
        intervals = interval_pair(outcomes, volumes, n_boot=n_boot, seed=seed)
        rows.append({"model": model, "n_items": len(qa_ids), **counts, "accuracy": accuracy,
                     **{f"accuracy_{k}": v for k, v in intervals.items()}})
    return rows


def _category_name(name: str) -> str:
    try:
        return canonical_category(name)
    except ValueError:
        return name  # kept visibly as its own row rather than dropped


def accuracy_by_category(
    qa_items: Iterable[dict[str, Any]],
    decisions: Mapping[ItemKey, str],
    predictions: Iterable[dict[str, Any]] | None = None,
    n_boot: int = 1000,
    seed: int = 0,
) -> list[dict[str, Any]]:
    """One row per (category, model): n_items, n (judged), n_correct, n_failed, accuracy and its
    percentile-bootstrap 95% interval (accuracy_ci_low, accuracy_ci_high).

    An item with several categories counts in each. All six categories appear for every model even
    when empty (accuracy NaN), so tables and plots keep one shape. Pass ``predictions`` to leave
    error predictions out, as ``accuracy_by_model`` does (and count them in ``n_errors``).
    Intervals resample volumes. ``n_items`` is the number of QA items in the category, like
    upstream's count column; ``n_failed`` counts the jury's failed decisions (an item with no
    decision at all is neither judged nor failed here).
    """
    qa_items = [qa_item(qa) for qa in qa_items]
    predictions = list(predictions or [])
    errored = {(entry_of(p), p["qa_id"]) for p in predictions if p.get("status") == "error"}
    models = list(dict.fromkeys([*(model for model, _ in decisions),
                                 *(model for model, _ in errored)]))
    decisions = effective_decisions(decisions, predictions)
    qa_by_id = index_by(qa_items, "qa_id")
    volume = volume_of(qa_items)
    items_in: dict[str, list[str]] = {name: [] for name in CATEGORIES}
    for qa in qa_items:
        for name in dict.fromkeys(_category_name(c) for c in qa.categories or []):
            items_in.setdefault(name, []).append(qa.qa_id)
    for model, qa_id in decisions:
        if qa_id not in qa_by_id:
            raise RecordError(f"model {model!r}: qa_id {qa_id!r} is not in the QA items")
    rows = []
    for category, qa_ids in items_in.items():
        for model in models:
            found = [decisions.get((model, qa_id), None) for qa_id in qa_ids]
            judged_ids = [q for q, d in zip(qa_ids, found) if d in (CORRECT, INCORRECT)]
            judged = [decisions[(model, q)] for q in judged_ids]
            n_correct = sum(d == CORRECT for d in judged)
            low, high = cluster_bootstrap_ci([float(d == CORRECT) for d in judged],
                                             [volume[q] for q in judged_ids], n_boot, seed)
            rows.append({
                "category": category, "model": model, "n_items": len(qa_ids),
                "n": len(judged), "n_correct": n_correct,
                "n_failed": sum(d == FAILED for d in found),
                "n_errors": sum((model, qa_id) in errored for qa_id in qa_ids),
                "accuracy": n_correct / len(judged) if judged else float("nan"),
                "accuracy_ci_low": low, "accuracy_ci_high": high,
            })
    return rows
