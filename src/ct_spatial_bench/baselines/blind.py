"""The blind baseline: what the question text alone predicts, with no image at all."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from typing import Any

from ct_spatial_bench.models.cards import ModelCard
from ct_spatial_bench.models.base import Answer, ModelAdapter, Question

_YES_NO_START = re.compile(r"^(is|are|was|were|does|do|did|can|could|has|have|should|would|will)\b")
_WORD = re.compile(r"[a-z0-9]+")


def question_forms(question: str) -> list[str]:
    """Keys from the most to the least specific: the whole question, its opening, its type."""
    words = _WORD.findall(question.lower())
    kind = "yes/no" if words and _YES_NO_START.match(words[0]) else "open"
    # dict.fromkeys drops a repeated key (a 4-word question), so no answer is counted twice
    return list(dict.fromkeys([" ".join(words), " ".join(words[:4]), kind]))


class BlindBaseline(ModelAdapter):
    """Answers with the commonest reference answer among questions of the same form.

    It is a prior, not a model: it shows how much of a score the question wording alone earns.
    The prior comes from ``config["answer_prior"]``: ``[{"qa_id", "case_id", "question",
    "answer"}, ...]``. Best from cases never asked (the sanity split draws extra phantoms for it).
    When the prior holds the asked items themselves (the full split), every row of the asked
    item's case is left out, so it never learns from the scan it is asked about. Leaving out the
    item alone would not do: on a form answered "Yes" and "No" equally often, the item's own
    answer would always lose the vote and the floor would read 0.
    """

    name = "blind"
    baseline = True
    input_spec = None
    description = ("Answers from the question text alone: the commonest answer to questions of "
                   "the same form in cases it is not asked about. The floor any model that looks "
                   "must beat.")
    answer_prior = True  # reads the catalog's ``blind_answer_prior``
    card = ModelCard(
        title="blind baseline", weights="-", source="- (this project)",
        prompt="none: the commonest answer to questions of the same form in other cases",
        decoding="-", slice_order="- (no image)", trained_on_ct_rate=False,
        status="the floor a model that looks must beat")

    def __init__(self) -> None:
        self._counts: dict[str, Counter] = defaultdict(Counter)
        self._case_counts: dict[str, dict[str, Counter]] = defaultdict(lambda: defaultdict(Counter))
        self._case_of: dict[str, str] = {}
        self._fallback = "Yes"

    def load(self, config: dict[str, Any]) -> None:
        for row in config.get("answer_prior", []):
            case = row.get("case_id") or row["qa_id"]
            for form in question_forms(row["question"]):
                self._counts[form][row["answer"]] += 1
                self._case_counts[case][form][row["answer"]] += 1
            self._case_of[row["qa_id"]] = case
        self._fallback = config.get("fallback_answer", self._fallback)

    def answer_one(self, image: Any, question: Question) -> Answer:
        return Answer(self._answer_text(question), prompt=question.text)

    def _answer_text(self, item: Question) -> str:
        own_case = self._case_counts.get(self._case_of.get(item.qa_id, ""), {})
        for form in question_forms(item.text):
            counts = Counter(self._counts.get(form, {}))
            counts.subtract(own_case.get(form, Counter()))
            counts = +counts  # drop non-positive counts
            if counts:
                # Ties go to the alphabetically first answer, so the baseline is deterministic.
                best = max(counts.values())
                return min(a for a, c in counts.items() if c == best)
        return self._fallback

    def describe(self) -> dict[str, Any]:
        return {
            "model_revision": "blind-v2",
            "generation": {"method": "majority answer by question form, the asked case left out"},
        }
