"""An offline judge from rules: no network, no keys, deterministic.

It lets ``kedro run`` judge the sanity split end to end and gives the LLM judges a transparent
floor to be compared against. The rules run in order and the first that decides wins; the
verdict's ``reason`` names it:

1. ``empty prediction``: blank output is incorrect (not failed: this judge did decide).
2. ``exact match`` after normalisation (case, punctuation, articles, whitespace).
3. ``yes/no polarity``: for a yes/no question whose reference and prediction both resolve to a
   polarity, correct iff they agree and no spatial term conflicts.
4. ``spatial conflict``: a predicted side, level, depth, centricity, lobe or segment that excludes
   the reference's is incorrect, whatever else matches.
5. ``measurement mismatch``: sizes (mm/cm, converted) more than ``max(1 mm, 10 %)`` apart, or a
   different count for a "how many" question, are incorrect.
6. ``spatial terms``: for a question that asks for a location, the prediction is correct iff it
   states every spatial term of the reference that the question does not already give. A
   reference "Right upper lobe" against "right lung" is therefore incorrect: a lobe was asked
   and only a side was given.
7. ``measurement``: for a question that asks for a size, the sizes must be given and match.
8. ``token F1``: content-word F1 >= ``TOKEN_F1_THRESHOLD`` (0.5: at least half of the content
   words shared both ways, which accepts rephrasings such as "in the mediastinum" for
   "Mediastinum" and rejects a different finding in the same place).
"""

from __future__ import annotations

import re

from ..records import CORRECT, INCORRECT
from ..spatial.terms import COMPARED_AXES, compare_spatial_terms, extract_spatial_terms
from .base import Judge, Judgement
from .text import (answer_polarity, counts, is_yes_no_question, measurements_mm,
                   normalise_answer, token_f1)

TOKEN_F1_THRESHOLD = 0.5
SIZE_TOLERANCE_MM = 1.0
SIZE_TOLERANCE_RELATIVE = 0.10

_LOCATION_QUESTION = re.compile(
    r"\bwhere\b|\bwhich\b|\bwhat (?:side|lobe|level|segment|part|region|position|location)\b"
    r"|\blocat\w*|\bposition\w*|\bsides?\b|\bor\b", re.IGNORECASE)
_SIZE_QUESTION = re.compile(
    r"\bsizes?\b|\bdiameters?\b|\bmeasur\w*|\bhow (?:large|big|long|thick)\b|\bdimensions?\b"
    r"|\bthickness\b|\blength\b", re.IGNORECASE)
_COUNT_QUESTION = re.compile(r"\bhow many\b", re.IGNORECASE)


def _sizes_match(reference: list[float], prediction: list[float]) -> bool:
    """Every reference size has a predicted size within tolerance."""
    def close(a: float, b: float) -> bool:
        return abs(a - b) <= max(SIZE_TOLERANCE_MM, SIZE_TOLERANCE_RELATIVE * a)
    return all(any(close(r, p) for p in prediction) for r in reference)


def _answer_terms(question_terms: dict, reference_terms: dict) -> dict:
    """The reference's spatial terms minus what the question already states.

    "What is the size of the nodule in the right lung?" with "5 mm in the right lung": the side is
    context, not answer. A question naming two values on an axis ("right or left?") is a choice,
    and its axis stays required.
    """
    required = {}
    for axis in COMPARED_AXES:
        values = reference_terms.get(axis, frozenset())
        given = question_terms.get(axis, frozenset())
        if len(given) == 1:
            values = values - given
        if values:
            required[axis] = frozenset(values)
    return required


def _asserted(terms: dict) -> dict:
    """The positive axes only, dropping the ``not_<axis>`` values."""
    return {axis: values for axis, values in terms.items() if not axis.startswith("not_")}


def _describe(axis_items) -> str:
    return "; ".join(f"{item[0]}: reference {sorted(item[1])}"
                     + (f", prediction {sorted(item[2])}" if len(item) > 2 else "")
                     for item in axis_items)


class RuleJudge(Judge):
    """The offline judge: ``name`` "rule", ``model`` "rule-v1", ``prompt_version`` "rule-v1"."""

    name = "rule"
    model = "rule-v1"
    prompt_version = "rule-v1"

    def judge(self, question: str, answer: str, prediction: str) -> Judgement:
        verdict, reason = self._decide(question or "", answer or "", prediction or "")
        return Judgement(verdict=verdict, reason=reason)

    def _decide(self, question: str, answer: str, prediction: str) -> tuple[str, str]:
        if not prediction.strip():
            return INCORRECT, "empty prediction"
        if normalise_answer(answer) == normalise_answer(prediction):
            return CORRECT, "exact match"

        ref_terms = extract_spatial_terms(answer)
        pred_terms = extract_spatial_terms(prediction)
        conflicts = compare_spatial_terms(ref_terms, pred_terms).conflicts

        ref_polarity = answer_polarity(answer, question)
        if is_yes_no_question(question) and ref_polarity is not None:
            pred_polarity = answer_polarity(prediction, question)
            if pred_polarity is not None:
                if pred_polarity != ref_polarity:
                    return INCORRECT, "yes/no polarity differs"
                # Polarity already settled negation; "no nodes in the bilateral hila" against
                # "the bilateral hilar nodes were not enlarged" must not clash on scope.
                asserted = compare_spatial_terms(_asserted(ref_terms), _asserted(pred_terms))
                if asserted.conflicts:
                    return INCORRECT, ("yes/no polarity agrees but spatial conflict "
                                       f"({_describe(asserted.conflicts)})")
                return CORRECT, "yes/no polarity agrees"

        if conflicts:
            return INCORRECT, f"spatial conflict ({_describe(conflicts)})"

        ref_sizes = [v for v in measurements_mm(answer) if v not in measurements_mm(question)]
        pred_sizes = measurements_mm(prediction)
        if ref_sizes and pred_sizes and not _sizes_match(ref_sizes, pred_sizes):
            return INCORRECT, ("measurement mismatch "
                               f"(reference {ref_sizes} mm, prediction {pred_sizes} mm)")
        if _COUNT_QUESTION.search(question):
            ref_counts, pred_counts = counts(answer), counts(prediction)
            if ref_counts and pred_counts and ref_counts[0] != pred_counts[0]:
                return INCORRECT, ("count mismatch "
                                   f"(reference {ref_counts[0]}, prediction {pred_counts[0]})")
            if ref_counts and pred_counts:
                return CORRECT, f"count matches ({ref_counts[0]})"

        required = _answer_terms(extract_spatial_terms(question), ref_terms)
        if required and _LOCATION_QUESTION.search(question):
            missing = compare_spatial_terms(required, pred_terms).missing
            if missing:
                return INCORRECT, f"spatial terms missing ({_describe(missing)})"
            return CORRECT, "spatial terms agree"

        if ref_sizes and _SIZE_QUESTION.search(question):
            if not pred_sizes:
                return INCORRECT, "measurement missing"
            return CORRECT, "measurement within tolerance"

        score = token_f1(answer, prediction)
        if score >= TOKEN_F1_THRESHOLD:
            return CORRECT, f"token F1 {score:.2f} >= {TOKEN_F1_THRESHOLD}"
        return INCORRECT, f"token F1 {score:.2f} < {TOKEN_F1_THRESHOLD}"
