"""Accuracy of a model's probe variants (perturbed inputs, other input representations) against
the model as run in the benchmark, per category.

A variant's predictions carry the real ``model`` and a ``variant`` label; for judging and
scoring they are renamed ``<model>@<variant>`` so that several variants of one model never share
a key. Everything is joined by (model, qa_id).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ct_spatial_bench.metrics.accuracy import accuracy_by_category, accuracy_by_model

SEPARATOR = "@"


def variant_model(model: str, variant: str) -> str:
    return f"{model}{SEPARATOR}{variant}"


def as_variant_predictions(predictions: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Predictions renamed ``<model>@<variant>`` (``base_model`` keeps the model's name)."""
    return [{**p, "model": variant_model(p["model"], p["variant"]), "base_model": p["model"]}
            for p in predictions]


def variant_accuracy(
    qa_items: Iterable[dict[str, Any]],
    variant_predictions: list[dict[str, Any]],
    variant_decisions: Mapping[tuple[str, str], str],
    base_predictions: list[dict[str, Any]],
    base_decisions: Mapping[tuple[str, str], str],
    describe: Mapping[str, Mapping[str, Any]] | None = None,
) -> list[dict[str, Any]]:
    """One row per (model, variant, category incl. ``All``): accuracy of the variant, of the
    model as benchmarked (the same items), and the drop (benchmark minus variant).

    ``describe`` maps a variant label to columns to add (e.g. perturbation kind and strength).
    """
    qa_items = list(qa_items)
    rows = []
    for variant_name in dict.fromkeys(p["model"] for p in variant_predictions):
        model, variant = variant_name.split(SEPARATOR, 1)
        asked = {p["qa_id"] for p in variant_predictions if p["model"] == variant_name}
        items = [qa for qa in qa_items if qa["qa_id"] in asked]
        mine = [p for p in variant_predictions if p["model"] == variant_name]
        base = [p for p in base_predictions if p["model"] == model and p["qa_id"] in asked]
        scored = _scores(items, mine, variant_decisions, variant_name)
        reference = _scores(items, base, base_decisions, model)
        for category, figures in scored.items():
            base_acc = reference.get(category, {}).get("accuracy", float("nan"))
            rows.append({"model": model, "variant": variant, **dict((describe or {}).get(
                variant, {})), "category": category, "n": figures["n"],
                "accuracy": figures["accuracy"], "accuracy_benchmark": base_acc,
                "accuracy_drop": base_acc - figures["accuracy"]})
    return rows


def _scores(items, predictions, decisions, model) -> dict[str, dict[str, Any]]:
    asked = {p["qa_id"] for p in predictions}
    mine = {key: d for key, d in decisions.items() if key[0] == model and key[1] in asked}
    overall = accuracy_by_model(items, predictions, mine, n_boot=1) if predictions else []
    out = {"All": {"n": r["n_judged"], "accuracy": r["accuracy"]}
           for r in overall if r["model"] == model}
    for row in accuracy_by_category(items, mine, predictions, n_boot=1):
        if row["model"] == model:
            out[row["category"]] = {"n": row["n"], "accuracy": row["accuracy"]}
    return out
