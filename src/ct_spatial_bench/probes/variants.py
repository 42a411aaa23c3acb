"""Accuracy of a model's probe variants (perturbed inputs, other input representations, other
precisions) against the model as run in the benchmark, per category.

A variant is a field, never a suffix in the model's name: a variant's predictions carry the real
``model`` and a ``variant`` label, and so do their verdicts (``records.Verdict.variant``). Several
variants of one model share its name, so they are judged together but decided and scored variant
by variant, each joined by (entry, qa_id): the entry (``records.entry_of``) is the model under its
variant, and the benchmark's entry the model without one (never its blind control). Files
written before the variant was a field named a variant ``<model>@<variant>``; the records read
from them are split (``probe_predictions``, ``variant_decisions``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any, TypeVar

from ct_spatial_bench.metrics.accuracy import accuracy_by_category, accuracy_by_model
from ct_spatial_bench.records import ItemKey, Prediction, Verdict, entry_label, entry_of, qa_item

LEGACY_SEPARATOR = "@"  # how files written before the variant was a field named a variant
VariantRecord = TypeVar("VariantRecord", Prediction, Verdict)


def _split_legacy(model: str, variant: str | None) -> tuple[str, str | None]:
    if variant is None and LEGACY_SEPARATOR in model:
        model, variant = model.split(LEGACY_SEPARATOR, 1)
    return model, variant


def _with_variant(record: VariantRecord) -> VariantRecord:
    """``record`` with ``model`` the model's own name and ``variant`` its field: an older file's
    ``<model>@<variant>`` name read as such."""
    model, variant = _split_legacy(record.model, record.variant)
    if (model, variant) == (record.model, record.variant):
        return record
    return replace(record, model=model, variant=variant)


def probe_predictions(rows: Iterable[Mapping[str, Any]]) -> list[Prediction]:
    """A probe's predictions as ``Prediction`` records with ``model`` the model's own name and
    ``variant`` its field (older files' ``<model>@<variant>`` names split); rows (a test's, a
    script's) become records here, one that cannot is named by its position."""
    return [_with_variant(Prediction.from_dict(row, f"variant prediction {i}"))
            for i, row in enumerate(rows, start=1)]


def variant_decisions(verdicts: Iterable[Mapping[str, Any]], judges: Sequence[str] | None = None,
                      rule: str = "majority") -> dict[str | None, dict[ItemKey, str]]:
    """``{variant: {(entry, qa_id): decision}}``: the jury's decisions, variant by variant."""
    from ct_spatial_bench.judges.jury import jury_decisions

    grouped: dict[str | None, list[Verdict]] = {}
    for i, row in enumerate(verdicts, start=1):  # rows become records (a test's, a script's)
        verdict = _with_variant(Verdict.from_dict(row, f"verdict {i}"))
        grouped.setdefault(verdict.variant, []).append(verdict)
    return {variant: jury_decisions(rows, judges=judges, rule=rule)
            for variant, rows in grouped.items()}


def variant_accuracy(
    qa_items: Iterable[Mapping[str, Any]],
    variant_predictions: list[Mapping[str, Any]],
    variant_decisions: Mapping[str | None, Mapping[ItemKey, str]],
    base_predictions: list[Mapping[str, Any]],
    base_decisions: Mapping[ItemKey, str],
    describe: Mapping[str, Mapping[str, Any]] | None = None,
) -> list[dict[str, Any]]:
    """One row per (model, variant, category incl. ``All``): accuracy of the variant, of the
    model as benchmarked (the same items), and the drop (benchmark minus variant).

    ``variant_decisions``: ``variant_decisions``'s ``{variant: {(entry, qa_id): decision}}``.
    ``describe`` maps a variant label to columns to add (e.g. perturbation kind and strength).
    """
    # Rows become records here (a test's, a script's), as the datasets load them.
    qa_items = [qa_item(qa) for qa in qa_items]
    variant_predictions = probe_predictions(variant_predictions)
    base_predictions = [Prediction.from_dict(p, f"prediction {i}")
                        for i, p in enumerate(base_predictions, start=1)]
    rows = []
    for model, variant in dict.fromkeys((p.model, p.variant) for p in variant_predictions):
        mine = [p for p in variant_predictions if (p.model, p.variant) == (model, variant)]
        asked = {p.qa_id for p in mine}
        items = [qa for qa in qa_items if qa.qa_id in asked]
        # the model as benchmarked: its entry without a variant (not its blind control)
        base = [p for p in base_predictions if entry_of(p) == model and p.qa_id in asked]
        scored = _scores(items, mine, variant_decisions.get(variant, {}),
                         entry_label(model, variant))
        reference = _scores(items, base, base_decisions, model)
        for category, figures in scored.items():
            base_acc = reference.get(category, {}).get("accuracy", float("nan"))
            rows.append({"model": model, "variant": variant, **dict((describe or {}).get(
                variant, {})), "category": category, "n": figures["n"],
                "accuracy": figures["accuracy"], "accuracy_benchmark": base_acc,
                "accuracy_drop": base_acc - figures["accuracy"]})
    return rows


def _scores(items, predictions: list[Prediction], decisions, entry) -> dict[str, dict[str, Any]]:
    """Accuracy of ``entry`` (``records.entry_of``: the rows' ``model`` label), overall and per
    category, on the items of ``predictions``."""
    asked = {p.qa_id for p in predictions}
    mine = {key: d for key, d in decisions.items() if key[0] == entry and key[1] in asked}
    overall = accuracy_by_model(items, predictions, mine, n_boot=1) if predictions else []
    out = {"All": {"n": r["n_judged"], "accuracy": r["accuracy"]}
           for r in overall if r["model"] == entry}
    for row in accuracy_by_category(items, mine, predictions, n_boot=1):
        if row["model"] == entry:
            out[row["category"]] = {"n": row["n"], "accuracy": row["accuracy"]}
    return out
