"""Cached judges (the LLM judges) on the shared engine (``ct_spatial_bench.llm.engine``).

Every judge runs at once, each with its own client's concurrency limit, rate limits and progress
bar. A batch prompt puts k items in one call. Each reply's verdicts are committed to the cache
before the worker takes its next call, so a killed run loses at most the calls in flight. A call
that never got a reply is ``failed`` (and not cached, so the next run asks again).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ct_spatial_bench.judges.base import CachedJudge, Judgement
from ct_spatial_bench.judges.cache import VerdictCache
from ct_spatial_bench.judges.parsing import parse_batch, parse_yes_no
from ct_spatial_bench.llm.client import Completion
from ct_spatial_bench.llm.engine import Call, estimate_tokens, run_calls
from ct_spatial_bench.records import FAILED

Item = tuple[str, str, str]  # (question, reference answer, prediction)


@dataclass(frozen=True)
class Task:
    """One distinct (question, answer, prediction) a judge must decide; ``key`` is its cache key."""

    key: str
    question: str
    answer: str
    prediction: str


def call_of(judge: CachedJudge, items: Sequence[Item], payload: Any = None) -> Call:
    """The engine call judging ``items`` (one, or a batch for a batch prompt)."""
    if judge.prompt.kind == "batch":
        system, user = judge.prompt.render_batch(items)
    else:
        (item,) = items
        system, user = judge.prompt.render_single(*item)
    return Call(system, user, judge.prompt.max_output(len(items)), payload, size=len(items))


def estimated_call_tokens(judge: CachedJudge, items: Sequence[Item]) -> tuple[int, int]:
    """(prompt tokens, output tokens) one call on ``items`` is expected to cost."""
    call = call_of(judge, items)
    return estimate_tokens(call.system) + estimate_tokens(call.user), call.max_output


def _split_tokens(tokens: dict[str, int], n: int) -> list[dict[str, int]]:
    """A batch call's tokens shared over its items, the remainder on the first, so sums are exact."""
    shares = [{} for _ in range(n)]
    for name, value in tokens.items():
        base, extra = divmod(int(value), n)
        for i, share in enumerate(shares):
            share[name] = base + (extra if i == 0 else 0)
    return shares


def judgements_of(judge: CachedJudge, completion: Completion, n_items: int) -> list[Judgement]:
    """The verdicts in one reply; a refusal or empty reply is ``failed`` with its text kept."""
    if completion.text is None or completion.refusal:
        raw = completion.refusal or ""
        judgements = [Judgement(verdict=FAILED, reason=f"refused: {raw}" if raw else "empty reply",
                                raw=raw) for _ in range(n_items)]
    elif judge.prompt.kind == "batch":
        judgements = parse_batch(completion.text, n_items)
    else:
        judgements = [parse_yes_no(completion.text)]
    for judgement, share in zip(judgements, _split_tokens(completion.tokens, n_items)):
        judgement.tokens = share
    return judgements


def _failure(reason: str) -> dict[str, Any]:
    return {"verdict": FAILED, "reason": reason, "raw": "", "tokens": {}, "latency_s": 0.0}


async def run_judge(judge: CachedJudge, tasks: Sequence[Task], cache: VerdictCache, *,
                    done_before: int = 0, position: int = 0, progress: bool = True
                    ) -> dict[str, dict[str, Any]]:
    """Ask ``judge`` about every task; ``{key: verdict fields}``, each committed as it arrives."""
    results: dict[str, dict[str, Any]] = {}
    size = judge.batch_size
    calls = [call_of(judge, [(t.question, t.answer, t.prediction) for t in batch], batch)
             for batch in (tasks[i:i + size] for i in range(0, len(tasks), size))]

    def on_reply(call: Call, completion: Completion, latency: float) -> None:
        for task, judgement in zip(call.payload, judgements_of(judge, completion, call.size)):
            record = {"verdict": judgement.verdict, "reason": judgement.reason,
                      "raw": judgement.raw, "tokens": judgement.tokens,
                      "latency_s": round(latency, 6)}
            cache.put(task.key, judge.provider, judge.model, judge.prompt_version, **record)
            results[task.key] = record

    def on_failure(call: Call, reason: str) -> None:
        # A judge that never replied (or was stopped) is 'failed', never 'incorrect'.
        results.update({t.key: _failure(reason) for t in call.payload})

    await run_calls(judge.client, calls, on_reply, on_failure, desc=f"judge {judge.name}",
                    done_before=done_before, position=position, progress=progress)
    return results


async def run_judges(work: Sequence[tuple[CachedJudge, Sequence[Task], int]],
                     cache: VerdictCache, progress: bool = True) -> list[dict[str, dict[str, Any]]]:
    """Every judge at once, each with its own limits and progress bar (one per line)."""
    return list(await asyncio.gather(*(
        run_judge(judge, tasks, cache, done_before=done, position=i, progress=progress)
        for i, (judge, tasks, done) in enumerate(work))))
