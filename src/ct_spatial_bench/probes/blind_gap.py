"""The blind gap: a model's accuracy with the image minus its accuracy without it.

A model is paired with its blind twin: its blind control (predictions of the model with variant
``blind``, the entry ``<model>_blind``), or a configured twin (the offline baselines: ``blind`` is
the twin of ``geometry``). Models and twins are entries (``records.entry_of``). The gap is
computed overall and per category on the items both were decided on, joined by qa_id, with an
exact McNemar test; a gap that is not above zero means the model does no better with the image
than without it, and is flagged.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from ct_spatial_bench.metrics.intervals import paired_mcnemar
from ct_spatial_bench.records import entry_of
from ct_spatial_bench.spatial.categories import CATEGORIES, canonical_category

ALL = "All"


def blind_gap(
    qa_items: Iterable[dict[str, Any]],
    decisions: Mapping[tuple[str, str], str],
    predictions: Iterable[dict[str, Any]],
    pairs: Mapping[str, str],
) -> list[dict[str, Any]]:
    """One row per (model, category), category ``All`` first: n_shared, accuracy with and
    without the image, gap, discordant counts, exact McNemar p-value and ``flagged`` (gap not
    above zero, or nothing to compare)."""
    predictions = list(predictions)
    items_in: dict[str, set[str]] = {ALL: set()}
    for item in qa_items:
        items_in[ALL].add(item["qa_id"])
        for category in item.get("categories") or []:
            items_in.setdefault(canonical_category(category), set()).add(item["qa_id"])
    rows = []
    for model, twin in pairs.items():
        for category in (ALL, *CATEGORIES):
            qa_ids = items_in.get(category, set())
            subset = {(m, q): d for (m, q), d in decisions.items()
                      if m in (model, twin) and q in qa_ids}
            preds = [p for p in predictions
                     if entry_of(p) in (model, twin) and p["qa_id"] in qa_ids]
            test = next(iter(paired_mcnemar(_rename(subset, model, twin),
                                            _rename_preds(preds, model, twin))), None)
            rows.append(_row(model, twin, category, test))
    return rows


# paired_mcnemar orders a pair by name; fixed names make the model "a" and its twin "b".
_A, _B = "a_with_image", "b_blind"


def _rename(decisions, model, twin):
    names = {model: _A, twin: _B}
    return {(names[m], q): d for (m, q), d in decisions.items()}


def _rename_preds(predictions, model, twin):
    names = {model: _A, twin: _B}  # the fixed names are the whole entry: no variant beside them
    return [{**p, "model": names[entry_of(p)], "variant": None} for p in predictions]


def _row(model: str, twin: str, category: str, test: dict[str, Any] | None) -> dict[str, Any]:
    nan = float("nan")
    if test is None or not test["n_shared"]:
        figures = {"n_shared": 0, "accuracy": nan, "accuracy_blind": nan, "blind_gap": nan,
                   "image_only": 0, "blind_only": 0, "p_value": nan}
    else:
        figures = {"n_shared": test["n_shared"], "accuracy": test["accuracy_a"],
                   "accuracy_blind": test["accuracy_b"],
                   "blind_gap": test["accuracy_a"] - test["accuracy_b"],
                   "image_only": test["a_only"], "blind_only": test["b_only"],
                   "p_value": test["p_value"]}
    gap = figures["blind_gap"]
    return {"model": model, "blind_model": twin, "category": category, **figures,
            "flagged": bool(math.isnan(gap) or gap <= 0)}
