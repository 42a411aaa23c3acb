"""The one protocol every judge implements."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

@dataclass
class Judgement:
    """A judge's decision on one prediction. ``failed`` means the judge could not decide."""

    verdict: str  # one of records.VERDICTS: correct | incorrect | failed
    reason: str = ""
    raw: str = ""
    tokens: dict[str, int] = field(default_factory=dict)


@runtime_checkable
class Judge(Protocol):
    """Takes (question, reference answer, prediction) and returns a verdict.

    ``name`` is the judge's short name (``rule``, ``openai``...), ``model`` the judge model
    (``rule-v1``, ``gpt-4o-mini``...), ``prompt_version`` identifies the prompt or rule set.
    """

    name: str
    model: str
    prompt_version: str

    def judge(self, question: str, answer: str, prediction: str) -> Judgement: ...
