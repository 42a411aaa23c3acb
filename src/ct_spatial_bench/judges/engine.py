"""The async engine that asks the LLM judges: concurrency, rate limits, retries, the cache.

Every judge runs at once, each with its own concurrency limit, requests- and tokens-per-minute
buckets and progress bar. A call that fails transiently (429, 408, 5xx, a timeout, a dropped
connection) is retried with exponential backoff and jitter, waiting at least the server's
Retry-After. Each reply's verdicts are committed to the cache before the worker takes its next
item, so a killed run loses at most the calls in flight. A call that never got a reply is
``failed`` (and not cached, so the next run asks again); a fatal error (bad key, unknown model)
stops that judge instead of paying for thousands of identical failures.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ct_spatial_bench.judges.base import FAILED, Judgement
from ct_spatial_bench.judges.cache import VerdictCache
from ct_spatial_bench.judges.limits import RateLimits
from ct_spatial_bench.judges.llm import Completion, FatalJudgeError, LLMJudge, TransientError
from ct_spatial_bench.judges.parsing import parse_batch, parse_yes_no

logger = logging.getLogger(__name__)

Item = tuple[str, str, str]  # (question, reference answer, prediction)


@dataclass(frozen=True)
class Task:
    """One distinct (question, answer, prediction) a judge must decide; ``key`` is its cache key."""

    key: str
    question: str
    answer: str
    prediction: str


def estimate_tokens(text: str) -> int:
    """About four characters a token for English text: enough to pace a rate limit and to budget."""
    return len(text) // 4 + 1


def render(judge: LLMJudge, items: Sequence[Item]) -> tuple[str, str]:
    if judge.prompt.kind == "batch":
        return judge.prompt.render_batch(items)
    (item,) = items
    return judge.prompt.render_single(*item)


def estimated_call_tokens(judge: LLMJudge, items: Sequence[Item]) -> tuple[int, int]:
    """(prompt tokens, output tokens) one call on ``items`` is expected to cost."""
    system, user = render(judge, items)
    return estimate_tokens(system) + estimate_tokens(user), judge.prompt.max_output(len(items))


def backoff_delay(judge: LLMJudge, attempt: int, retry_after: float | None) -> float:
    """Seconds before retry ``attempt`` + 1: the server's Retry-After (plus up to 10 % so paused
    workers do not return in lockstep), else exponential with equal jitter, capped."""
    if retry_after is not None:
        return retry_after * (1.0 + random.uniform(0.0, 0.1))
    ceiling = min(judge.backoff_max_s, judge.backoff_base_s * 2 ** attempt)
    return ceiling / 2 + random.uniform(0.0, ceiling / 2)


async def ask_with_retries(judge: LLMJudge, items: Sequence[Item], limits: RateLimits
                           ) -> tuple[Completion, float]:
    """One call on ``items`` (retried while transient); returns the reply and its latency."""
    system, user = render(judge, items)
    prompt_tokens, max_output = estimated_call_tokens(judge, items)
    estimate = prompt_tokens + max_output
    for attempt in range(judge.max_retries + 1):
        await limits.acquire(estimate)
        started = time.perf_counter()
        try:
            # The SDK's own timeout should fire first; this one guards against a hung client.
            completion = await asyncio.wait_for(judge.complete(system, user, max_output),
                                                judge.timeout_s + 5.0)
        except (TransientError, asyncio.TimeoutError) as exc:
            limits.settle(estimate, 0)  # a refused or lost call is not billed
            retry_after = getattr(exc, "retry_after", None)
            if attempt == judge.max_retries:
                raise TransientError(f"gave up after {attempt + 1} attempts: "
                                     f"{type(exc).__name__}: {exc}") from exc
            if retry_after is not None:
                limits.pause(retry_after)
            delay = backoff_delay(judge, attempt, retry_after)
            logger.debug("judge %s: %s; retry %d in %.2f s", judge.name, exc, attempt + 1, delay)
            await asyncio.sleep(delay)
            continue
        limits.settle(estimate, completion.tokens.get("total"))
        return completion, time.perf_counter() - started
    raise AssertionError("unreachable")


def _split_tokens(tokens: dict[str, int], n: int) -> list[dict[str, int]]:
    """A batch call's tokens shared over its items, the remainder on the first, so sums are exact."""
    shares = [{} for _ in range(n)]
    for name, value in tokens.items():
        base, extra = divmod(int(value), n)
        for i, share in enumerate(shares):
            share[name] = base + (extra if i == 0 else 0)
    return shares


def judgements_of(judge: LLMJudge, completion: Completion, n_items: int) -> list[Judgement]:
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


async def run_judge(judge: LLMJudge, tasks: Sequence[Task], cache: VerdictCache, *,
                    done_before: int = 0, position: int = 0, progress: bool = True
                    ) -> dict[str, dict[str, Any]]:
    """Ask ``judge`` about every task; ``{key: verdict fields}``, each committed as it arrives."""
    from tqdm.auto import tqdm

    limits = RateLimits(judge.requests_per_minute, judge.tokens_per_minute)
    semaphore = asyncio.Semaphore(judge.concurrency)
    results: dict[str, dict[str, Any]] = {}
    fatal: list[str] = []
    size = judge.batch_size
    batches = [list(tasks[i:i + size]) for i in range(0, len(tasks), size)]
    bar = tqdm(total=len(tasks) + done_before, initial=done_before, desc=f"judge {judge.name}",
               position=position, unit="item", disable=not progress, leave=True)

    async def ask(batch: list[Task]) -> None:
        async with semaphore:
            if fatal:
                results.update({t.key: _failure(f"judge stopped: {fatal[0]}") for t in batch})
                bar.update(len(batch))
                return
            items = [(t.question, t.answer, t.prediction) for t in batch]
            try:
                completion, latency = await ask_with_retries(judge, items, limits)
            except Exception as exc:  # noqa: BLE001 - no reply is 'failed', never 'incorrect'
                reason = f"no reply: {type(exc).__name__}: {exc}"
                if isinstance(exc, FatalJudgeError) and not fatal:
                    fatal.append(reason)
                    logger.error("judge %s stopped: %s", judge.name, reason)
                else:
                    logger.warning("judge %s: %s", judge.name, reason)
                results.update({t.key: _failure(reason) for t in batch})
            else:
                for task, judgement in zip(batch, judgements_of(judge, completion, len(batch))):
                    record = {"verdict": judgement.verdict, "reason": judgement.reason,
                              "raw": judgement.raw, "tokens": judgement.tokens,
                              "latency_s": round(latency, 6)}
                    cache.put(task.key, judge.provider, judge.model, judge.prompt_version, **record)
                    results[task.key] = record
            bar.update(len(batch))

    await judge.open()
    try:
        await asyncio.gather(*(ask(batch) for batch in batches))
    finally:
        await judge.aclose()
        bar.close()
    return results


async def run_judges(work: Sequence[tuple[LLMJudge, Sequence[Task], int]], cache: VerdictCache,
                     progress: bool = True) -> list[dict[str, dict[str, Any]]]:
    """Every judge at once, each with its own limits and progress bar (one per line)."""
    return list(await asyncio.gather(*(
        run_judge(judge, tasks, cache, done_before=done, position=i, progress=progress)
        for i, (judge, tasks, done) in enumerate(work))))
