"""Exact scoring of the mask track, without a judge.

A closed answer is read from free text: a leading yes/no decides; otherwise the spatial terms it
uses for the question's two poles ("right"/"left", "above"/"below", a lobe's name, ...), negated
terms counted for the other pole. Outcomes: correct, wrong, hedged (both poles, or a hedge such
as "cannot determine"), unreadable (neither). A number is read with its unit and scored by
VSI-Bench's mean relative accuracy (MRA, thresholds 0.50, 0.55, ..., 0.95).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import numpy as np

from ..records import OK, Prediction, QAItem
from ..spatial.terms import extract_spatial_terms
from .questions import family_of

OUTCOMES = ("correct", "wrong", "hedged", "unreadable")

# Terms of each pole; ``side`` and lobes are read with the project's spatial vocabulary instead.
POLES: dict[str, str] = {
    "above": r"above|superior|higher|cranial|cephalad",
    "below": r"below|inferior|caudal|beneath|under",
    "anterior": r"anterior|in\s+front|ventral|front",
    "posterior": r"posterior|behind|dorsal",
    "medial": r"medial|closer\s+to\s+the\s+midline|nearer\s+to\s+the\s+midline|more\s+central",
    "lateral": r"lateral|farther|further|more\s+peripheral",
    "near": r"within|touch\w*|abut\w*|adjacent|contact|in\s+contact",
    "far": r"more\s+than|separate\w*|apart|away|distant",
    "bilateral": r"both|bilateral\w*",
    "unilateral": r"one\s+side|unilateral\w*|only|single\s+side",
    "larger": r"larger|bigger|greater",
    "smaller": r"smaller|lesser",
}
_COMPILED = {k: re.compile(rf"\b(?:{v})\b") for k, v in POLES.items()}
_YES_NO = re.compile(r"^\W*(yes|no)\b")
_HEDGE = re.compile(r"\b(?:cannot|can't|unable|unclear|uncertain|not\s+sure|indeterminate|"
                    r"possibly|either|difficult\s+to|not\s+possible)\b")
_NEGATION = re.compile(r"\b(?:not|no|isn't|is\s+not|never|neither|nor)\s+(?:\w+\s+){0,2}$")
_NUMBER = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?)\s*(mm|millimet\w*|cm|centimet\w*)?")
_NUMBER_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "single": 1}
_SWAP = {"Yes": "No", "No": "Yes"}


def _pole_hits(pole: str, text: str) -> tuple[bool, bool]:
    """(mentioned plainly, mentioned negated) for one pole's terms."""
    plain = negated = False
    for match in _COMPILED[pole].finditer(text):
        if _NEGATION.search(text[max(0, match.start() - 40):match.start()]):
            negated = True
        else:
            plain = True
    return plain, negated


def _side_hits(pole: str, text: str) -> tuple[bool, bool]:
    """The project's vocabulary folds "right ... left" into bilateral: both poles, a hedge."""
    terms = extract_spatial_terms(text)
    sides = terms.get("side", frozenset())
    return pole in sides or "bilateral" in sides, pole in terms.get("not_side", ())


def _lobe_reading(item: QAItem, text: str) -> str | None:
    """Containment read from the lobes named: the asked lobe alone, other lobes, or both."""
    asked = set(extract_spatial_terms(item.meta["reference_noun"]).get("lobe", ()))
    terms = extract_spatial_terms(text)
    named, denied = set(terms.get("lobe", ())), set(terms.get("not_lobe", ()))
    if not named and not denied:
        return None
    inside = bool(named & asked) and not named - asked
    outside = bool(denied & asked) or (bool(named) and not named & asked)
    if inside == outside:
        return "hedged"
    truth_if_inside = "Yes" if item.meta["asked_pole"] == "inside" else "No"
    return truth_if_inside if inside else _SWAP[truth_if_inside]


def read_closed(item: QAItem, text: str) -> str:
    """'Yes', 'No', 'hedged' or 'unreadable': what a free-text reply says to a closed item."""
    clean = " ".join(str(text or "").lower().split())
    if not clean:
        return "unreadable"
    if _HEDGE.search(clean):
        return "hedged"
    lead = _YES_NO.match(clean)
    if lead:
        return "Yes" if lead.group(1) == "yes" else "No"
    family = family_of(item)
    if family == "containment":
        return _lobe_reading(item, clean) or "unreadable"
    asked, other = item.meta["asked_pole"], item.meta["other_pole"]
    hits = _side_hits if family == "laterality" else _pole_hits
    asked_plain, asked_negated = hits(asked, clean)
    other_plain, other_negated = hits(other, clean)
    says_asked = asked_plain or other_negated
    says_other = other_plain or asked_negated
    if says_asked and says_other:
        return "hedged"
    if says_asked or says_other:
        return "Yes" if says_asked else "No"
    return "unreadable"


def read_number(text: str, unit: str) -> float | None:
    """The first number of a reply, in ``unit`` (a length in cm is converted to mm)."""
    clean = str(text or "").lower()
    match = _NUMBER.search(clean)
    if match is None:
        words = re.findall(r"\b(" + "|".join(_NUMBER_WORDS) + r")\b", clean)
        return float(_NUMBER_WORDS[words[0]]) if words else None
    value = float(match.group(1))
    if unit == "mm" and match.group(2) and match.group(2).startswith(("cm", "centimet")):
        value *= 10.0
    return value


def mean_relative_accuracy(prediction: float, target: float, start: float = 0.5,
                           end: float = 0.95, interval: float = 0.05) -> float:
    """VSI-Bench's MRA: the share of thresholds t in start..end whose relative error
    |pred - target| / target is <= 1 - t (thresholds as np.linspace over (end-start)/interval+2
    points, truncated, as its lmms-eval task computes them: 0.50, 0.55, ..., 0.95)."""
    points = int((end - start) / interval + 2)
    thresholds = np.linspace(start, end, points)
    error = abs(prediction - target) / abs(target)
    return float((error <= 1 - thresholds).mean())


def score_item(item: QAItem, prediction: Prediction | None) -> dict[str, Any]:
    """One scored row: outcome, score (0..1), what was read; ``failed`` for a failed call."""
    meta = item.meta
    row = {"qa_id": item.qa_id, "case_id": item.case_id, "family": family_of(item),
           "categories": item.categories, "answer_type": item.answer_type,
           "pair_id": meta.get("pair_id"), "mirrored": meta.get("mirrored", False),
           "twin_of": meta.get("twin_of")}
    if prediction is None or prediction.status != OK:
        return {**row, "outcome": "failed", "score": None, "read": None}
    text = prediction.prediction
    row["prediction"] = text  # what the model said, for the report's examples
    if item.answer_type == "number":
        value = read_number(text, meta.get("unit", ""))
        if value is None:
            return {**row, "outcome": "unreadable", "score": 0.0, "read": None}
        score = mean_relative_accuracy(value, float(item.answer))
        return {**row, "outcome": "correct" if score == 1.0 else "wrong", "score": score,
                "read": value}
    read = read_closed(item, text)
    if read in ("hedged", "unreadable"):
        return {**row, "outcome": read, "score": 0.0, "read": read}
    right = read == item.answer
    return {**row, "outcome": "correct" if right else "wrong", "score": float(right), "read": read}


def score_predictions(items: list[QAItem], predictions: Iterable[Prediction],
                      model: str) -> list[dict[str, Any]]:
    """Every item scored for ``model``, joined by qa_id (an item without a prediction fails)."""
    by_id = {p.qa_id: p for p in predictions}
    return [{"model": model, **score_item(item, by_id.get(item.qa_id))} for item in items]
