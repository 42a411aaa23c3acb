"""Two judging runs at once on one cache pay for each item once (before: 2 requests an item)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

from reliability_helpers import CHILD, judge_config, prediction_text, qa_and_predictions

N_ITEMS = 40


def _start(args) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    return subprocess.Popen([sys.executable, "-c", CHILD, json.dumps(args)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_two_concurrent_runs_ask_each_item_once(server, tmp_path):
    server.latency_s = 0.2  # each run takes ~2 s, so the two overlap
    items, preds = qa_and_predictions(N_ITEMS)
    args = [judge_config(server), items, preds, str(tmp_path / "cache.sqlite"), 30.0]
    runs = [_start(args), _start(args)]
    outputs = [run.communicate(timeout=120) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], [err[-2000:] for _, err in outputs]
    first, second = (json.loads(out.strip().splitlines()[-1]) for out, _ in outputs)
    # The server's own count: every item asked once over both runs, and both runs have it all.
    asked = {prediction_text(i): server.asked[("openai", prediction_text(i))]
             for i in range(N_ITEMS)}
    assert asked == dict.fromkeys(asked, 1)
    assert server.requests == N_ITEMS
    assert first == second and len(first) == N_ITEMS
    assert set(first.values()) == {"correct", "incorrect"}


def test_a_killed_runs_claims_do_not_block_the_next_run(server, tmp_path):
    """A run killed mid-way leaves claims on its items in flight; on the same host they are free
    at once (its process is gone), so the resumed run neither waits out the lease nor pays for
    anything the killed run stored."""
    from support.killed_runs import cached_rows, run_and_kill

    from ct_spatial_bench.judges.registry import create_judge
    from ct_spatial_bench.judges.engine import judge_predictions

    items, preds = qa_and_predictions(N_ITEMS)
    cache = tmp_path / "cache.sqlite"
    lease = 600.0  # far longer than the test may take: only the dead-owner rule can free them
    run_and_kill(server, CHILD, [judge_config(server), items, preds, str(cache), lease], cache,
                 "verdicts", answers=15)
    stored = cached_rows(cache, "verdicts")
    assert 15 <= stored < N_ITEMS
    started = time.monotonic()
    verdicts = judge_predictions([create_judge("openai", judge_config(server))], items, preds,
                                 cache_path=cache, progress=False, lease_s=lease)
    assert time.monotonic() - started < 30
    assert len(verdicts) == N_ITEMS and {v["verdict"] for v in verdicts} <= {"correct",
                                                                             "incorrect"}
    # Every item answered once; only the killed run's in-flight requests were sent twice.
    answered = [server.answered[("openai", prediction_text(i))] for i in range(N_ITEMS)]
    assert answered == [1] * N_ITEMS
    assert server.requests - N_ITEMS <= 4  # the killed run's concurrency
