"""The spatial-slot score: does the prediction name the same side / level / depth / centricity /
lobe as the reference, a conflicting one, none, or several at once?

Jury accuracy rewards answers that say enough for a judge to find the right finding; this score
reads only the spatial claim, deterministically, with the terms of spatial/terms.py.

Per item:
- the slots asked are the axes (side, vertical, depth, centricity, lobe) on which the reference
  answer states a value, less those the question itself already states with the same values
  ("Which lobe of the right lung...?": side is given, not asked). An item whose reference names
  no slot (a yes/no answer, a measurement) is not slot-scored.
- on each asked axis, reference values R against predicted values P:
  agree     P covers R (directly or by implication: subpleural is peripheral, the lingula is in
            the LUL) and states nothing that excludes R;
  hedge     P covers R and also states a value excluding it ("right or left", "upper and lower",
            "bilateral" for a one-sided reference): several answers at once;
  conflict  P states a value excluding R and does not cover it, or negates R ("no ... on the
            right" against "right");
  missing   P states nothing on the axis, or only values that neither cover nor exclude R.
- the item's outcome is the worst of its axes: conflict, then hedge, then missing, then agree;
  it is slot-correct when every asked axis agrees. The four rates partition the scored items.

Segments are left out (their names are free text and overlap with depth/level words); structures
are context and never conflict. Before reading, a prediction's self-invented continuation
("... Question: ... Answer: ...", Merlin's run-on text) and its end tokens ("###</s>") are cut
(metrics/normalise.py); how a text's slot values are read, and which slots a question asks (a
question about one side or lobe scopes the reference to it; stations, segments and the hilum are
no slot values; a landmark's level is a level), is metrics/slot_reading.py.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from ct_spatial_bench.metrics.accuracy import _category_name, volume_of
from ct_spatial_bench.metrics.normalise import clean_prediction
from ct_spatial_bench.metrics.slot_reading import (
    asked_slots,
    closure,
    question_reading,
    slot_terms,
)
from ct_spatial_bench.records import CORRECT, ERROR, QAItem, as_prediction, entry_of, qa_item
from ct_spatial_bench.spatial.categories import CATEGORIES
from ct_spatial_bench.spatial.terms import EXCLUSIVE_GROUPS
from ct_spatial_bench.statistics import cluster_bootstrap_ci, cohen_kappa

OUTCOMES = ("conflict", "hedge", "missing", "agree")  # worst first


def _excludes(value: str, reference: frozenset[str], axis: str) -> bool:
    """True when predicted ``value`` rules out some reference value on ``axis``."""
    if axis == "side":  # bilateral states both sides: against one side it adds the other
        if value == "bilateral":
            return bool(reference - {"bilateral"})
        if value == "unilateral" or reference == {"unilateral"}:
            return value == "unilateral" and "bilateral" in reference
        return "bilateral" in reference or value not in reference
    mine, theirs = closure([value]), closure(reference)
    return any(mine & group and theirs & group and not mine & theirs & group
               for group in EXCLUSIVE_GROUPS.get(axis, ()))


def axis_outcome(axis: str, reference: frozenset[str], predicted: Mapping[str, frozenset[str]]
                 ) -> str:
    """agree | hedge | conflict | missing for one asked axis (see the module's rules)."""
    values = predicted.get(axis, frozenset())
    if reference & closure(predicted.get("not_" + axis, frozenset())):
        return "conflict"
    covered = bool(values) and reference <= closure(values)
    excluding = any(_excludes(v, reference, axis) for v in values)
    if covered:
        return "hedge" if excluding else "agree"
    return "conflict" if excluding else "missing"


def slot_outcomes(question: str, answer: str, prediction: str) -> dict[str, str]:
    """``{axis: outcome}`` over the asked axes (empty when the reference names no open slot)."""
    predicted = slot_terms(question_reading(question, clean_prediction(prediction)))
    return {axis: axis_outcome(axis, values, predicted)
            for axis, values in asked_slots(question, answer).items()}


def item_outcome(outcomes: Mapping[str, str]) -> str | None:
    """The worst axis outcome, or None for an item with no asked slot."""
    return next((o for o in OUTCOMES if o in outcomes.values()), None)


def score_slots(
    qa_items: Iterable[dict[str, Any]], predictions: Iterable[dict[str, Any]]
) -> list[dict[str, Any]]:
    """One row per slot-scored (model, qa_id): the asked axes, each axis' outcome, the item's.

    Error predictions are scored on their (empty) text: every asked slot missing."""
    qa_by_id = {qa.qa_id: qa for qa in map(qa_item, qa_items)}
    asked = {q: asked_slots(qa.question, qa.answer) for q, qa in qa_by_id.items()}
    rows = []
    for pred in map(as_prediction, predictions):
        slots = asked[pred.qa_id]
        if not slots:
            continue
        text = "" if pred.status == ERROR else pred.prediction or ""
        terms = slot_terms(question_reading(qa_by_id[pred.qa_id].question,
                                            clean_prediction(text)))
        per_axis = {axis: axis_outcome(axis, values, terms) for axis, values in slots.items()}
        rows.append({"model": entry_of(pred), "qa_id": pred.qa_id,
                     "axes": "+".join(per_axis), "slot_outcome": item_outcome(per_axis),
                     **{f"slot_{axis}": outcome for axis, outcome in per_axis.items()}})
    return rows


def slot_rates(rows: list[dict[str, Any]]) -> dict[str, float]:
    """n_slot, slot_accuracy and the conflict / missing / hedge rates of some scored rows."""
    counts = Counter(r["slot_outcome"] for r in rows)
    n = len(rows)
    share = (lambda k: counts[k] / n) if n else (lambda k: float("nan"))
    return {"n_slot": n, "slot_accuracy": share("agree"), "slot_conflict_rate": share("conflict"),
            "slot_missing_rate": share("missing"), "slot_hedge_rate": share("hedge")}


def slot_table(
    qa_items: Iterable[dict[str, Any]], slot_rows: list[dict[str, Any]],
    n_boot: int = 1000, seed: int = 0,
) -> list[dict[str, Any]]:
    """One row per (model, category), category ``All`` first: n_slot, the slot accuracy with its
    volume-clustered interval, and the conflict / missing / hedge rates. Categories overlap (an
    item with several counts in each)."""
    qa_items = [qa_item(qa) for qa in qa_items]
    volume = volume_of(qa_items)
    categories_of = {qa.qa_id: {_category_name(c) for c in qa.categories or []}
                     for qa in qa_items}
    out = []
    for model in dict.fromkeys(r["model"] for r in slot_rows):
        mine = [r for r in slot_rows if r["model"] == model]
        for category in ("All", *CATEGORIES):
            rows = mine if category == "All" else [
                r for r in mine if category in categories_of.get(r["qa_id"], ())]
            low, high = cluster_bootstrap_ci(
                [float(r["slot_outcome"] == "agree") for r in rows],
                [volume[r["qa_id"]] for r in rows], n_boot=n_boot, seed=seed)
            out.append({"model": model, "category": category, **slot_rates(rows),
                        "slot_accuracy_ci_low": low, "slot_accuracy_ci_high": high})
    return out


def slot_jury_agreement(
    slot_rows: list[dict[str, Any]], decisions: Mapping[tuple[str, str], str],
) -> list[dict[str, Any]]:
    """Per model and over all: Cohen's kappa of slot-correct (every asked axis agrees) against the
    jury's correct, on the slot-scored items the jury decided; n, raw agreement."""
    paired = [(r["model"], r["slot_outcome"] == "agree",
               decisions[(r["model"], r["qa_id"])] == CORRECT)
              for r in slot_rows
              if decisions.get((r["model"], r["qa_id"])) in ("correct", "incorrect")]
    out = []
    for model in [*dict.fromkeys(m for m, _, _ in paired), "All"]:
        mine = [(s, j) for m, s, j in paired if model in ("All", m)]
        slot, jury = [s for s, _ in mine], [j for _, j in mine]
        out.append({"model": model, "n": len(mine),
                    "kappa": cohen_kappa(slot, jury) if mine else float("nan"),
                    "agreement": sum(s == j for s, j in mine) / len(mine) if mine
                    else float("nan"),
                    "slot_correct": sum(slot), "jury_correct": sum(jury)})
    return out


def slot_jury_disagreements(
    slot_rows: list[dict[str, Any]], decisions: Mapping[tuple[str, str], str],
    qa_items: Iterable[dict[str, Any]], predictions: Iterable[dict[str, Any]],
    n_examples: int = 2,
) -> list[dict[str, Any]]:
    """The cells where slot score and jury part, commonest first: slot outcome, the axis outcomes,
    the jury's decision, count, and a few examples (question, answer, prediction)."""
    qa_by_id: dict[str, QAItem] = {qa.qa_id: qa for qa in map(qa_item, qa_items)}
    text_of = {p.key: p.prediction or "" for p in map(as_prediction, predictions)}
    cells: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for row in slot_rows:
        decision = decisions.get((row["model"], row["qa_id"]))
        if decision not in ("correct", "incorrect"):
            continue
        if (row["slot_outcome"] == "agree") == (decision == CORRECT):
            continue
        cells.setdefault((row["slot_outcome"], decision), []).append(row)
    out = []
    for (outcome, decision), rows in sorted(cells.items(), key=lambda kv: -len(kv[1])):
        examples = []
        by_model: dict[str, list[dict[str, Any]]] = {}
        for row in rows:
            by_model.setdefault(row["model"], []).append(row)
        # one example per model in turn, so a model with many rows does not fill the list
        turns = itertools.zip_longest(*by_model.values())
        picked = [r for turn in turns for r in turn if r is not None][:n_examples]
        for row in picked:
            qa = qa_by_id[row["qa_id"]]
            axes = ", ".join(f"{a}: {row[f'slot_{a}']}" for a in row["axes"].split("+"))
            examples.append(f"[{row['model']}] Q: {qa.question} | A: {qa.answer} | "
                            f"P: {text_of.get((row['model'], row['qa_id']), '')[:200]} ({axes})")
        out.append({"slot_outcome": outcome, "jury": decision, "count": len(rows),
                    "examples": " || ".join(examples)})
    return out


def slots_against_jury(
    slot_rows: list[dict[str, Any]], decisions: Mapping[tuple[str, str], str],
    qa_items: list[dict[str, Any]], predictions: list[dict[str, Any]],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Kappa of slot-correct against the jury (a model's error counting incorrect), and the
    commonest disagreements with examples."""
    from ct_spatial_bench.metrics.accuracy import effective_decisions

    decisions = effective_decisions(decisions, predictions)
    return (slot_jury_agreement(slot_rows, decisions),
            slot_jury_disagreements(slot_rows, decisions, qa_items, predictions))
