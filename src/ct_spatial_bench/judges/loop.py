"""Judging's per-item work (the orchestration is ``judges.engine``): each item put to a judge and
its verdict row made, on whichever path the judge declares (judges/base.py).

Cached judges (the LLM judges) run on the shared async engine (``ct_spatial_bench.llm.engine``).
Every judge runs at once, each with its own client's concurrency limit, rate limits and progress
bar. A batch prompt puts k items in one call. Each reply's verdicts are committed to the cache
before the worker takes its next call, so a killed run loses at most the calls in flight; a reply
that cannot be stored stops the run (``llm.cache.CacheWriteError``). A call that never got a reply
is ``failed`` (and not cached, so the next run asks again).

Items are claimed in the cache before they are asked (``llm.cache``): a second run at the same
time waits for what the first has in flight and reads its verdicts instead of paying again.
Reasons and raw replies are redacted (``ct_spatial_bench.secrets``) before they are stored.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ct_spatial_bench.judges.base import CachedJudge, Judge, Judgement
from ct_spatial_bench.judges.cache import VerdictCache
from ct_spatial_bench.judges.failure_policy import PREDICTION_ERROR
from ct_spatial_bench.judges.parsing import (
    PARSER_VERSION,
    parse_batch,
    parse_structured,
    parse_yes_no,
)
from ct_spatial_bench.llm.cache import LEASE_S, POLL_S
from ct_spatial_bench.llm.client import Completion
from ct_spatial_bench.llm.engine import Call, estimate_tokens, renewing_claims, run_calls
from ct_spatial_bench.records import ERROR, FAILED, INCORRECT, Prediction, QAItem, Verdict, entry_of
from ct_spatial_bench.secrets import error_text, redact_text

logger = logging.getLogger(__name__)

Item = tuple[str, str, str]  # (question, reference answer, prediction)
BOOKKEEPING = ("parser_version", "item_index", "batch_size")  # cache columns, not verdict fields


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
    return Call(system, user, judge.prompt.max_output(len(items)), payload, size=len(items),
                schema=judge.prompt.schema, decoding=judge.prompt.decoding)


def estimated_call_tokens(judge: CachedJudge, items: Sequence[Item]) -> tuple[int, int]:
    """(prompt tokens, output tokens) one call on ``items`` is expected to cost."""
    call = call_of(judge, items)
    return estimate_tokens(call.system or "") + estimate_tokens(call.user), call.max_output


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
    if completion.undecodable is not None:
        judgements = [Judgement(verdict=FAILED, reason="undecodable reply (not UTF-8); its bytes "
                                "are kept escaped", raw=completion.undecodable)
                      for _ in range(n_items)]
    elif completion.text is None or completion.refusal:
        raw = completion.refusal or ""
        judgements = [Judgement(verdict=FAILED, reason=f"refused: {raw}" if raw else "empty reply",
                                raw=raw) for _ in range(n_items)]
    else:
        judgements = read_reply(judge, completion.text, n_items)
    for judgement, share in zip(judgements, _split_tokens(completion.tokens, n_items)):
        judgement.tokens = share
    return judgements


def read_reply(judge: CachedJudge, text: str, n_items: int) -> list[Judgement]:
    """The verdicts in a reply's text, read by the parser of the judge's prompt kind."""
    if judge.prompt.kind == "batch":
        return parse_batch(text, n_items, judge.prompt.reply_key)
    if judge.prompt.kind == "structured":
        return [parse_structured(text)]
    return [parse_yes_no(text)]


def reread(judge: CachedJudge, raw: str, item_index: int, n_items: int) -> Judgement:
    """A cached raw reply read again by the current parser (no call): item ``item_index`` of a
    reply to ``n_items`` items."""
    return read_reply(judge, raw, n_items)[item_index]


def _failure(reason: str) -> dict[str, Any]:
    return {"verdict": FAILED, "reason": redact_text(reason), "raw": "", "tokens": {},
            "latency_s": 0.0}


def _stored(record: dict[str, Any]) -> dict[str, Any]:
    """A cached row as verdict fields (the parser's bookkeeping left in the cache)."""
    return {k: v for k, v in record.items() if k not in BOOKKEEPING}


async def run_judge(judge: CachedJudge, tasks: Sequence[Task], cache: VerdictCache, *,
                    done_before: int = 0, position: int = 0, progress: bool = True,
                    stale: frozenset[str] = frozenset(), lease_s: float = LEASE_S
                    ) -> dict[str, dict[str, Any]]:
    """Ask ``judge`` about every task; ``{key: verdict fields}``, each committed as it arrives.

    Only tasks this run claims are asked; those another live run holds are read from the cache
    once it stores them (or claimed and asked here when that run dies and its lease expires).
    ``stale`` keys are asked even though the cache has them (a refresh).
    """
    results: dict[str, dict[str, Any]] = {}
    size = judge.batch_size

    def on_reply(call: Call, completion: Completion, latency: float) -> None:
        judgements = judgements_of(judge, completion, call.size)
        for index, (task, judgement) in enumerate(zip(call.payload, judgements)):
            record = {"verdict": judgement.verdict, "reason": redact_text(judgement.reason),
                      "raw": redact_text(judgement.raw), "tokens": judgement.tokens,
                      "latency_s": round(latency, 6)}
            cache.put(task.key, judge.provider, judge.model, judge.prompt_version, **record,
                      parser_version=PARSER_VERSION, item_index=index,
                      batch_size=0 if completion.undecodable is not None else call.size)
            results[task.key] = record

    def on_failure(call: Call, reason: str) -> None:
        # A judge that never replied (or was stopped) is 'failed', never 'incorrect'.
        results.update({t.key: _failure(reason) for t in call.payload})
        cache.release([t.key for t in call.payload])  # another run may ask them now

    lost: list[Task] = []

    def on_lost(call: Call) -> None:
        # Our claim lapsed (a pause) and another run took the items or answered them: not sent;
        # they are read from the cache once that run stores them.
        lost.extend(call.payload)

    pending = list(tasks)
    while pending:
        mine = cache.claim([t.key for t in pending], lease_s, stale)
        asked = [t for t in pending if t.key in mine]
        lost.clear()
        if asked:
            held = stale

            def still_ours(call: Call) -> bool:
                return cache.hold([t.key for t in call.payload], lease_s, held)

            calls = [call_of(judge, [(t.question, t.answer, t.prediction) for t in batch], batch)
                     for batch in (asked[i:i + size] for i in range(0, len(asked), size))]
            await renewing_claims(cache, lease_s, run_calls(
                judge.client, calls, on_reply, on_failure, desc=f"judge {judge.name}",
                done_before=done_before, position=position, progress=progress,
                still_ours=still_ours, on_lost=on_lost))
            done_before += len(asked) - len(lost)
        stale = frozenset()  # asked once this run: what is stored from now on is fresh
        for task in pending:
            if task.key not in results and (hit := cache.get(task.key)) is not None:
                results[task.key] = _stored(hit)
        pending = [t for t in pending if t.key not in results]
        if pending and (not asked or lost):
            await asyncio.sleep(POLL_S)  # another run has them in flight
    return results


async def run_judges(work: Sequence[tuple[CachedJudge, Sequence[Task], int]],
                     cache: VerdictCache, progress: bool = True,
                     stale: frozenset[str] = frozenset(),
                     lease_s: float = LEASE_S) -> list[dict[str, dict[str, Any]]]:
    """Every judge at once, each with its own limits and progress bar (one per line)."""
    return list(await asyncio.gather(*(
        run_judge(judge, tasks, cache, done_before=done, position=i, progress=progress,
                  stale=stale, lease_s=lease_s)
        for i, (judge, tasks, done) in enumerate(work))))


# In-process judges, item by item (the rule judge) or chunk by chunk (``batched``: the offline
# judge), and the verdict rows every path ends in.

BATCH_SIZE = 4096


def batch_verdicts(judge: Judge, joined: Sequence[tuple[QAItem, Prediction]],
                   progress: bool) -> list[Verdict]:
    """Verdicts of a ``batched`` judge, in chunks; a chunk that raises is ``failed`` item by
    item, never ``incorrect``."""
    from tqdm.auto import tqdm

    out = []
    with tqdm(total=len(joined), desc=f"judge {judge.name}", leave=False,
              disable=None if progress else True) as bar:
        for start in range(0, len(joined), BATCH_SIZE):
            chunk = joined[start:start + BATCH_SIZE]
            todo = [(item, pred) for item, pred in chunk if pred.status != ERROR]
            started, error = time.perf_counter(), ""
            try:
                outcomes = judge.judge_batch([(item.question, item.answer, pred.prediction)
                                              for item, pred in todo])
            except Exception as exc:  # noqa: BLE001 - a judge failure is 'failed'
                logger.warning("judge %s failed on a batch of %d: %s", judge.name, len(todo), exc)
                outcomes = [None] * len(todo)
                error = error_text(exc)
            each = round((time.perf_counter() - started) / max(len(todo), 1), 6)
            by_id = {id(pred): o for (_, pred), o in zip(todo, outcomes)}
            for _, pred in chunk:
                if pred.status == ERROR:
                    out.append(unsent_verdict(judge, pred))
                    continue
                outcome = by_id[id(pred)] or Judgement(verdict=FAILED, reason=error)
                out.append(verdict_record(judge, pred, outcome, each))
            bar.update(len(chunk))
    return out


def item_verdict(judge: Judge, item: QAItem, pred: Prediction) -> Verdict:
    """One item judged now, in process; a judge that raises gives ``failed``."""
    if pred.status == ERROR:
        return unsent_verdict(judge, pred)
    started = time.perf_counter()
    try:
        outcome = judge.judge(item.question, item.answer, pred.prediction)
    except Exception as exc:  # noqa: BLE001 - a judge failure is 'failed', not 'incorrect'
        logger.warning("judge %s failed on %s/%s: %s", judge.name, entry_of(pred), pred.qa_id, exc)
        outcome = Judgement(verdict=FAILED, reason=error_text(exc))
    return verdict_record(judge, pred, outcome, round(time.perf_counter() - started, 6))


def stored_verdict(judge: CachedJudge, pred: Prediction,
                   result: dict[str, Any] | None) -> Verdict:
    """A cached judge's verdict row from its stored ``result`` (None: the item was not sent)."""
    if result is None:
        return unsent_verdict(judge, pred)
    outcome = Judgement(result["verdict"], result["reason"], result["raw"], result["tokens"])
    return verdict_record(judge, pred, outcome, result["latency_s"])


def unsent_verdict(judge: Judge, pred: Prediction) -> Verdict:
    """The verdict row of a prediction no judge was asked about (judges/engine.py's note): an
    errored one is ``failed`` (the model's failure), an empty one ``incorrect``."""
    if pred.status == ERROR:
        outcome = Judgement(verdict=FAILED,
                            reason=redact_text(f"{PREDICTION_ERROR}: {pred.error}"))
    else:
        outcome = Judgement(verdict=INCORRECT, reason="empty prediction: not sent to the judge")
    return verdict_record(judge, pred, outcome, 0.0)


def verdict_record(judge: Judge, pred: Prediction, outcome: Judgement,
                   latency_s: float) -> Verdict:
    """A ``Verdict``; it carries the prediction's ``variant`` (a probe's), never in the name."""
    return Verdict(pred.qa_id, pred.model, judge.name, judge.model, outcome.verdict,
                   outcome.reason, outcome.raw, judge.prompt_version, outcome.tokens,
                   latency_s, variant=pred.variant)
