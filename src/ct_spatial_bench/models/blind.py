"""The blind baseline: what the question text alone predicts, with no image at all."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from typing import Any

from ct_spatial_bench.models.base import ModelInput

_YES_NO_START = re.compile(r"^(is|are|was|were|does|do|did|can|could|has|have|should|would|will)\b")
_WORD = re.compile(r"[a-z0-9]+")


def question_forms(question: str) -> list[str]:
    """Keys from the most to the least specific: the whole question, its opening, its type."""
    words = _WORD.findall(question.lower())
    kind = "yes/no" if words and _YES_NO_START.match(words[0]) else "open"
    # dict.fromkeys drops a repeated key (a 4-word question), so no answer is counted twice
    return list(dict.fromkeys([" ".join(words), " ".join(words[:4]), kind]))


class BlindBaseline:
    """Answers with the commonest reference answer among *other* questions of the same form.

    It is a prior, not a model: it shows how much of a score the question wording alone earns.
    The item's own answer is always left out (leave-one-out), so it never sees what it is asked.
    The prior comes from ``config["answer_prior"]``: ``[{"qa_id", "question", "answer"}, ...]``.
    """

    name = "blind"
    input_spec = None
    needs_answer_prior = True  # the inference node passes the benchmark's answers as the prior

    def __init__(self) -> None:
        self._counts: dict[str, Counter] = defaultdict(Counter)
        self._own: dict[str, tuple[list[str], str]] = {}
        self._fallback = "Yes"

    def load(self, config: dict[str, Any]) -> None:
        for row in config.get("answer_prior", []):
            forms = question_forms(row["question"])
            for form in forms:
                self._counts[form][row["answer"]] += 1
            self._own[row["qa_id"]] = (forms, row["answer"])
        self._fallback = config.get("fallback_answer", self._fallback)

    def answer(self, batch: list[ModelInput]) -> list[str]:
        return [self._answer_one(item) for item in batch]

    def _answer_one(self, item: ModelInput) -> str:
        own_forms, own_answer = self._own.get(item.qa_id, ([], None))
        for form in question_forms(item.question):
            counts = Counter(self._counts.get(form, {}))
            if form in own_forms and own_answer is not None:
                counts[own_answer] -= 1
            counts = +counts  # drop non-positive counts
            if counts:
                # Ties go to the alphabetically first answer, so the baseline is deterministic.
                best = max(counts.values())
                return min(a for a, c in counts.items() if c == best)
        return self._fallback

    def describe(self) -> dict[str, Any]:
        return {
            "model_revision": "blind-v1",
            "generation": {"method": "leave-one-out majority answer by question form"},
        }
