"""Left-right flip consistency: which items can be mirrored, and what a model did on the mirror.

The rule for items (stated in the report): an item is probed when it is tagged with one of the
probed categories (Laterality by default), its reference answer names exactly one side (right or
left, not both, not "bilateral"), and neither the question nor the answer names anatomy whose
mirror does not exist (unpaired, side-specific structures such as the aortic arch, the heart's
chambers, the liver, the spleen, the right middle lobe or the lingula). By default lobes are
side-specific too (``exclude_lobes``): the right lung has three lobes and a horizontal fissure, the
left two, so the mirrored "left lung" has a right lung's lobes and "which lobe" has no answer in
normal anatomy. Its mirrored reference is the answer with "right" and "left" swapped.

An item's outcome compares the sides the model named on the original and on the mirrored volume:
``follows`` (one side, then the other), ``same_side`` (the same side or sides both times: the
answer ignores the image), ``no_side`` (no side either time) or ``wrong_flip`` (anything else: a
side appears, vanishes, or turns into both).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

from ct_spatial_bench.records import OK, Prediction, QAItem, entry_label, index_by_item, qa_item
from ct_spatial_bench.spatial.categories import LATERALITY, canonical_category

RIGHT, LEFT = "right", "left"
_SIDE = re.compile(r"\b(right|left)\b", re.IGNORECASE)
_BOTH = re.compile(r"\b(bilateral(?:ly)?|both\s+(?:sides|lungs|hemithoraces|hila))\b",
                   re.IGNORECASE)
# Side-specific anatomy whose left-right mirror does not exist in a normal patient.
NO_MIRROR = re.compile(
    r"\b(aort\w*|arch|heart|cardiac|ventric\w*|atri(?:um|a|al)|liver|hepat\w*|spleen|splenic|"
    r"stomach|gastric|azygos|hemiazygos|vena\s+cava|svc|ivc|middle\s+lobe|lingula\w*|"
    r"pulmonary\s+trunk|thoracic\s+duct|pancrea\w*|duoden\w*|gallbladder|appendi\w*|sigmoid)\b",
    re.IGNORECASE,
)
# Lobar anatomy differs between the lungs, so a lobe has no mirror either (``exclude_lobes``).
LOBES = re.compile(r"\b(lobes?|lobar|lingula\w*|fissures?)\b", re.IGNORECASE)
OUTCOMES = ("follows", "same_side", "wrong_flip", "no_side")
RULE = ("items tagged {categories} whose reference answer names exactly one side (right or left; "
        "not both, not 'bilateral'), and neither question nor answer names side-specific anatomy "
        "without a mirror (aorta/aortic arch, heart and its chambers, liver, spleen, stomach, "
        "azygos, venae cavae, right middle lobe, lingula, ...){lobes}; the mirrored reference "
        "swaps 'right' and 'left'")
LOBES_RULE = (", nor a lobe or fissure (the lungs' lobar anatomy is not mirror-symmetric: the "
              "mirrored left lung has three lobes)")


def rule_text(categories: Iterable[str], exclude_lobes: bool = True) -> str:
    """The item rule in words, for the report."""
    return RULE.format(categories=", ".join(categories),
                       lobes=LOBES_RULE if exclude_lobes else "")


def sides_named(text: str) -> frozenset[str]:
    """The sides a text names: {'right'}, {'left'}, both ('bilateral' counts as both) or none."""
    text = str(text or "")
    sides = {match.lower() for match in _SIDE.findall(text)}
    if _BOTH.search(text):
        sides |= {RIGHT, LEFT}
    return frozenset(sides)


def swap_sides(text: str) -> str:
    """``text`` with right and left swapped, keeping each word's capitalisation."""
    def swap(match: re.Match) -> str:
        word = match.group(0)
        other = LEFT if word.lower() == RIGHT else RIGHT
        if word.isupper():
            return other.upper()
        return other.capitalize() if word[0].isupper() else other
    return _SIDE.sub(swap, str(text))


def exclusion_reason(item: QAItem | Mapping[str, Any], categories: Iterable[str],
                     exclude_lobes: bool = True) -> str | None:
    """Why ``item`` is not probed, or None when it is (the module docstring states the rule)."""
    item = qa_item(item)
    wanted = {canonical_category(c) for c in categories}
    tagged = {canonical_category(c) for c in item.categories or []}
    if not wanted & tagged:
        return "not in a probed category"
    sides = sides_named(item.answer)
    if not sides:
        return "the answer names no side"
    if len(sides) > 1:
        return "the answer names both sides"
    anatomy = NO_MIRROR.search(f"{item.question} {item.answer}")
    if anatomy:
        return f"names side-specific anatomy without a mirror ({anatomy.group(0).lower()})"
    lobe = LOBES.search(f"{item.question} {item.answer}") if exclude_lobes else None
    if lobe:
        return f"names lobar anatomy, which is not mirror-symmetric ({lobe.group(0).lower()})"
    return None


def select_flip_items(
    qa_items: Iterable[QAItem | Mapping[str, Any]], categories: Iterable[str] = (LATERALITY,),
    exclude_lobes: bool = True,
) -> tuple[list[QAItem], list[dict[str, Any]]]:
    """The mirrored QA items (same qa_id and question, swapped answer) and the excluded items of
    the probed categories with their reason."""
    categories = list(categories)
    wanted = {canonical_category(c) for c in categories}
    mirrored, excluded = [], []
    for item in map(qa_item, qa_items):
        reason = exclusion_reason(item, categories, exclude_lobes)
        if reason is None:
            meta = {**(item.meta or {}), "original_answer": item.answer, "probe": "mirror_lr"}
            mirrored.append(replace(item, answer=swap_sides(item.answer), meta=meta))
        elif wanted & {canonical_category(c) for c in item.categories or []}:
            excluded.append({"qa_id": item.qa_id, "question": item.question,
                             "answer": item.answer, "reason": reason})
    return mirrored, excluded


def flip_outcome(original: str, mirrored: str) -> str:
    """How the side of an answer changed from the original to the mirrored volume."""
    before, after = sides_named(original), sides_named(mirrored)
    if len(before) == 1 and after == frozenset({RIGHT, LEFT}) - before:
        return "follows"
    if before and before == after:
        return "same_side"
    if not before and not after:
        return "no_side"
    return "wrong_flip"


def flip_outcomes(
    flip_items: Iterable[QAItem | Mapping[str, Any]],
    original_predictions: Iterable[Prediction | Mapping[str, Any]],
    mirrored_predictions: Iterable[Prediction | Mapping[str, Any]],
) -> list[dict[str, Any]]:
    """One row per (model, probed item) with both predictions ok, joined by (model, qa_id): a
    mirrored answer (variant ``mirror_lr``) to the model's own answer as benchmarked (the entry
    without a variant; never its blind control's)."""
    items = {item.qa_id: item for item in map(qa_item, flip_items)}
    # Rows become records here (a test's, a script's), as the datasets load them.
    originals = index_by_item([p for p in map(Prediction.from_dict, original_predictions)
                               if p.qa_id in items and p.status == OK],
                              "original predictions")
    rows = []
    for pred in map(Prediction.from_dict, mirrored_predictions):
        original = originals.get((entry_label(pred.model, None), pred.qa_id))
        if pred.status != OK or original is None or pred.qa_id not in items:
            continue
        item, before = items[pred.qa_id], original.prediction
        rows.append({
            "model": pred.model, "qa_id": pred.qa_id, "question": item.question,
            "answer": item.meta["original_answer"], "mirrored_answer": item.answer,
            "prediction": before, "mirrored_prediction": pred.prediction,
            "outcome": flip_outcome(before, pred.prediction),
            "correct_side": sides_named(before) == sides_named(item.meta["original_answer"]),
            "mirrored_correct_side": sides_named(pred.prediction) == sides_named(item.answer),
        })
    return rows


def flip_summary(rows: Iterable[dict[str, Any]],
                 models: Iterable[str] = ()) -> list[dict[str, Any]]:
    """Per model: n_items and the share of each outcome; side accuracy on both volumes."""
    rows = list(rows)
    out = []
    for model in dict.fromkeys([*models, *(r["model"] for r in rows)]):
        mine = [r for r in rows if r["model"] == model]
        n = len(mine)
        share = (lambda test: sum(map(test, mine)) / n) if n else (lambda test: float("nan"))
        out.append({
            "model": model, "n_items": n,
            "flip_consistency": share(lambda r: r["outcome"] == "follows"),
            "same_side_rate": share(lambda r: r["outcome"] == "same_side"),
            "wrong_flip_rate": share(lambda r: r["outcome"] == "wrong_flip"),
            "no_side_rate": share(lambda r: r["outcome"] == "no_side"),
            "side_accuracy": share(lambda r: r["correct_side"]),
            "mirrored_side_accuracy": share(lambda r: r["mirrored_correct_side"]),
        })
    return out
