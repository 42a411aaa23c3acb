"""The one protocol every judge implements, and the capabilities a judge declares.

The engine (judges/engine.py) chooses how to ask a judge from what it declares, never from its
type: ``cached`` judges are asked on the async engine through the on-disk verdict cache,
``batched`` ones in large chunks, the others item by item.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar, Protocol, runtime_checkable

# The verdict words are defined in records (one vocabulary for judges, jury and metrics); they are
# importable from here too, where judges have always found them.
from ct_spatial_bench.records import CORRECT, FAILED, INCORRECT  # noqa: F401

if TYPE_CHECKING:
    from ct_spatial_bench.judges.prompts import JudgePrompt
    from ct_spatial_bench.llm.client import LLMClient


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
    A judge subclasses this protocol, so it inherits the defaults of what it does not declare:

    - ``batched``: ``judge_batch`` decides many items at once faster than ``judge`` does one by
      one (the offline judge computes its features as arrays). The engine then gives it chunks;
      a chunk that raises is ``failed`` item by item. The default ``judge_batch`` loops.
    - ``cached``: every call is paid or remote; the judge is a ``CachedJudge``.
    """

    name: str
    model: str
    prompt_version: str
    batched: ClassVar[bool] = False
    cached: ClassVar[bool] = False

    def judge(self, question: str, answer: str, prediction: str) -> Judgement: ...

    def judge_batch(self, items: Sequence[tuple[str, str, str]]) -> list[Judgement]:
        return [self.judge(*item) for item in items]


@runtime_checkable
class CachedJudge(Judge, Protocol):
    """A judge whose calls are paid or remote. The engine asks it only what the verdict cache
    lacks, on the async engine (judges/loop.py), each distinct item once, and stores every
    reply before the next call.

    What the engine reads: ``provider`` (part of the cache key), ``client`` (the provider's
    client, with its concurrency and rate limits), ``prompt`` (renders one item, or a batch of
    ``batch_size`` items, per call).
    """

    cached: ClassVar[bool] = True
    provider: str
    client: LLMClient
    prompt: JudgePrompt
    batch_size: int
