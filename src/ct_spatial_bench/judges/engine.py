"""Judging's orchestration: judges applied to predictions, joined to the QA by ``qa_id``, one
verdict per (item, judge), and the configured run (judges built from the ``judging`` parameters,
the plan printed, the dry run, the failure policy). The per-item work is ``judges.loop``.

How a judge is asked follows what it declares (judges/base.py). ``cached`` judges (the LLM
judges) go through the async engine and the on-disk cache: only items the cache lacks are asked,
each distinct (question, answer, prediction) once however many models gave that prediction, and
all of them at once. ``batched`` judges (the offline judge) get large chunks; the others (the rule
judge) run item by item, in process.

A cached reply read by an older parser is read again from its raw text, at no cost. Not
everything is sent to a judge. A prediction whose model call failed (status ``error``) is not an
answer: its verdict is ``failed`` ("prediction error: ..."), and metrics count it as an error,
outside accuracy. An empty prediction (status ok) is the model answering nothing: it is
``incorrect`` without a paid call (no judge could call silence correct, and leaving it out of the
denominator would reward a model for not answering), except for a judge built with
``judge_empty_predictions`` (``protocol: upstream``: upstream's scripts sent every prediction, and
its judges called some empty ones correct), which is asked about it like any other.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ct_spatial_bench.errors import PlannedStop
from ct_spatial_bench.judges.base import CachedJudge, Judge
from ct_spatial_bench.judges.failure_policy import (  # noqa: F401 - importable from here too
    MAX_FAILED_SHARE,
    PREDICTION_ERROR,
    JudgeFailureShareError,
    check_failed_share,
)
from ct_spatial_bench.judges.loop import batch_verdicts, item_verdict, run_judges, stored_verdict
from ct_spatial_bench.judges.planning import is_sent, join_to_qa, pending_tasks, task_of
from ct_spatial_bench.records import FAILED

logger = logging.getLogger(__name__)

REFRESH_CHOICES = (False, True, FAILED)  # True: ask every item again; FAILED: the failed ones


def judge_predictions(
    judges: Sequence[Judge],
    qa_items: list[dict[str, Any]],
    predictions: list[dict[str, Any]],
    cache_path: str | Path | None = None,
    refresh: bool | str = False,
    progress: bool = True,
    lease_s: float | None = None,
    stop_if_a_judge_never_replied: bool = False,
    journal_mode: str | None = "auto",
) -> list[dict[str, Any]]:
    """Return a verdict per (prediction, judge), in judge then prediction order.

    A prediction that errored is ``failed`` without asking a judge (the model failed: that is no
    answer, and a paid judge call would be wasted); an empty one is ``incorrect`` without asking;
    a judge that raises or never replies gives ``failed`` for that item, never ``incorrect``. A
    prediction whose qa_id is not in the benchmark is an error naming it. ``cache_path`` (None: in
    memory) keeps cached judges' verdicts across runs; ``refresh`` True asks every item again, "failed" asks
    again only the cached ``failed`` ones. ``lease_s``: how long a claim on an item outlives a
    killed run (``llm.cache.LEASE_S`` by default). ``stop_if_a_judge_never_replied``: raise
    ``JudgeFailedError`` when an LLM judge got no reply to any call it made (the judging node
    sets it, so that such a run exits non-zero; what was stored stays in the cache).
    ``journal_mode``: the cache's SQLite journal (``llm.cache.journal_mode_for``: auto picks the
    rollback journal on a network filesystem, WAL elsewhere).
    """
    from tqdm.auto import tqdm

    if refresh not in REFRESH_CHOICES:
        raise ValueError(f"refresh must be one of {REFRESH_CHOICES}, got {refresh!r}")
    from ct_spatial_bench.judges.cache import check_distinct_judges

    check_distinct_judges(judges)
    joined = join_to_qa(qa_items, predictions)

    cached_results = _run_cached_judges([j for j in judges if j.cached], joined, cache_path,
                                        refresh, progress, lease_s,
                                        stop_if_a_judge_never_replied, journal_mode)
    verdicts = []
    for judge in judges:
        if judge.cached:
            results = cached_results[judge.name]
            for item, pred in joined:
                sent = is_sent(pred, judge)
                verdicts.append(stored_verdict(
                    judge, pred, results[task_of(judge, item, pred).key] if sent else None))
        elif judge.batched:
            verdicts.extend(batch_verdicts(judge, joined, progress))
        else:
            for item, pred in tqdm(joined, desc=f"judge {judge.name}", leave=False,
                                   disable=None if progress else True):
                verdicts.append(item_verdict(judge, item, pred))
    return verdicts


class DryRunStop(PlannedStop, RuntimeError):
    """Raised after a dry run has printed its plan, so that nothing downstream runs or is paid."""


def judge_as_configured(
    qa_items: list[dict[str, Any]],
    predictions: list[dict[str, Any]],
    settings: Mapping[str, Any],
    api_keys: Mapping[str, str | None] | None = None,
    enforce_failure_policy: bool = True,
) -> list[dict[str, Any]]:
    """One verdict per (prediction, judge) for the judges in ``settings.judges`` (the
    ``judging`` parameters).

    ``enforce_failure_policy``: raise ``JudgeFailureShareError`` when a judge failed on more
    than ``max_failed_share`` of its items (the judging pipeline checks it in a node of its own
    instead, once the verdicts are written).

    Judges that need a key take it from ``api_keys``; one without is skipped with a warning unless
    ``require_all_judges``, and with none left ``fallback_judge`` (offline) judges. The plan
    (calls and estimated tokens per judge) is printed before anything is spent; ``dry_run``
    stops there (``DryRunStop``). ``cache_path`` and ``refresh`` are ``judge_predictions``'.
    """
    from ct_spatial_bench.judges.planning import format_plan, plan_judging
    from ct_spatial_bench.judges.registry import build_judges

    defaults = {"prompts_dir": settings["prompts_dir"]} if settings.get("prompts_dir") else {}
    if settings.get("judge_empty_predictions"):
        defaults["judge_empty_predictions"] = True
    dry_run = settings.get("dry_run", False)
    # a dry run prices every configured judge, keys or not: nothing is sent
    judges = build_judges(settings["judges"], api_keys,
                          settings.get("require_all_judges", False), defaults,
                          placeholder_key="unused-in-a-dry-run" if dry_run else None)
    if not judges and settings.get("fallback_judge"):  # keyless runs judge offline
        logger.warning("judging: no configured judge has its API key; using the %r judge "
                       "(judging.fallback_judge)", settings["fallback_judge"])
        judges = build_judges([settings["fallback_judge"]])
    from ct_spatial_bench.judges.cache import check_distinct_judges

    check_distinct_judges(judges)  # before the plan: a duplicated judge is refused, not priced
    if not judges:
        raise RuntimeError("judging: no judge is available (every configured judge lacks an API "
                           "key); set the keys or add the offline 'rule' judge to judging.judges")
    cache_path, refresh = settings.get("cache_path"), settings.get("refresh", False)
    plan = plan_judging(judges, qa_items, predictions, cache_path, refresh,
                        settings.get("cache_journal_mode"))
    if plan:
        print(format_plan(plan, settings.get("prices")))  # noqa: T201 - read before money is spent
    if dry_run:
        raise DryRunStop("judging.dry_run is true: plan printed above, nothing was called")
    verdicts = judge_predictions(judges, qa_items, predictions, cache_path=cache_path,
                                 refresh=refresh, journal_mode=settings.get("cache_journal_mode"))
    failed = sum(v["verdict"] == FAILED for v in verdicts)
    logger.info("judging: %d verdicts from %d judges, %d failed", len(verdicts), len(judges),
                failed)
    if enforce_failure_policy:
        check_failed_share(verdicts, settings.get("max_failed_share", MAX_FAILED_SHARE))
    return verdicts


class JudgeFailedError(RuntimeError):
    """A judge failed every call it made: an infrastructure failure, not a set of verdicts."""


def _run_cached_judges(judges: Sequence[CachedJudge], joined: Sequence[tuple[dict, dict]],
                       cache_path: str | Path | None, refresh: bool | str, progress: bool,
                       lease_s: float | None = None, stop_if_a_judge_never_replied: bool = False,
                       journal_mode: str | None = "auto"
                       ) -> dict[str, dict[str, dict[str, Any]]]:
    if not judges:
        return {}
    from ct_spatial_bench.judges.cache import VerdictCache
    from ct_spatial_bench.llm.cache import LEASE_S

    with VerdictCache(cache_path, journal_mode) as cache:
        work, known, stale = [], {}, set()
        for judge in judges:
            tasks, cached = pending_tasks(judge, joined, cache, refresh)
            logger.info("judge %s (%s): %d cached, %d to ask", judge.name, judge.model,
                        len(cached), len(tasks))
            work.append((judge, tasks, len(cached)))
            known[judge.name] = cached
            if refresh:
                stale.update(task.key for task in tasks)
        fresh = asyncio.run(run_judges(work, cache, progress=progress, stale=frozenset(stale),
                                       lease_s=lease_s or LEASE_S))
    for (judge, tasks, _), new in zip(work, fresh):
        if stop_if_a_judge_never_replied:
            _stop_if_every_call_failed(judge, tasks, new)
    return {judge.name: {**known[judge.name], **new} for judge, new in zip(judges, fresh)}


def _stop_if_every_call_failed(judge: Any, tasks: Sequence[Any],
                               results: dict[str, dict[str, Any]]) -> None:
    """Raise when ``judge`` was asked something and got no reply at all (bad key, dead server):
    its ``failed`` verdicts would otherwise pass for a finished judging run. Replies that were
    stored are in the cache, so nothing paid is lost."""
    if not tasks:
        return
    outcomes = [results.get(task.key) for task in tasks]
    if any(o is not None and o.get("raw") for o in outcomes):
        return
    if all(o is None or (o["verdict"] == FAILED and not o.get("raw")) for o in outcomes):
        reason = next((o["reason"] for o in outcomes if o), "no reply")
        raise JudgeFailedError(f"judge {judge.name} ({judge.model}) failed all {len(tasks)} "
                               f"calls it made; first reason: {reason}")


