"""Runs that open one new cache at the same moment all open it.

Switching a new SQLite file to WAL answers "database is locked" at once when another connection
is doing the same (SQLite does not call the busy handler there); one of two judging runs started
together then stopped with CacheWriteError before asking anything (seen in CI, and here in about
one start of eight processes in three).
"""

from __future__ import annotations

import multiprocessing
import sqlite3

import pytest

from ct_spatial_bench.llm import cache as llm_cache

N_PROCESSES, N_TRIALS = 8, 12


def _open(path: str, barrier, results) -> None:
    from ct_spatial_bench.judges.cache import VerdictCache

    barrier.wait()
    try:
        VerdictCache(path)
        results.put("ok")
    except Exception as exc:  # the test reports what stopped a run
        results.put(repr(exc)[:300])


@pytest.mark.slow
def test_processes_opening_one_new_cache_together_all_open_it(tmp_path):
    context = multiprocessing.get_context("spawn")
    failures = []
    for trial in range(N_TRIALS):
        path = str(tmp_path / f"trial{trial}" / "verdicts.sqlite")
        barrier, results = context.Barrier(N_PROCESSES), context.Queue()
        processes = [context.Process(target=_open, args=(path, barrier, results))
                     for _ in range(N_PROCESSES)]
        for process in processes:
            process.start()
        failures += [r for r in (results.get(timeout=120) for _ in processes) if r != "ok"]
        for process in processes:
            process.join()
    assert failures == []


def test_a_locked_set_up_is_repeated_and_other_errors_are_not(monkeypatch):
    monkeypatch.setattr(llm_cache.time, "sleep", lambda s: None)
    calls = []

    def locked_twice():
        calls.append(1)
        if len(calls) < 3:
            raise sqlite3.OperationalError("database is locked")

    llm_cache._retry_while_locked(locked_twice)
    assert len(calls) == 3

    def read_only():
        calls.append(1)
        raise sqlite3.OperationalError("attempt to write a readonly database")

    calls.clear()
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        llm_cache._retry_while_locked(read_only)
    assert len(calls) == 1  # a store that cannot take a write still fails at once

    def always_locked():
        raise sqlite3.OperationalError("database is locked")

    with pytest.raises(sqlite3.OperationalError, match="locked"):
        llm_cache._retry_while_locked(always_locked, timeout_s=0.0)
