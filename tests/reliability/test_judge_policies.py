"""Issue 21: failure policies for judges, claims held to the end, a journal safe on NFS, an
undecodable reply kept once.

Expected counts are written from each scenario (items asked, items the other run took), not from
a run.
"""

from __future__ import annotations

import pytest
from reliability_helpers import GOOD_KEY, judge_config, qa_and_predictions


def _settings(server, tmp_path, **judging):
    return {"judges": [{"name": "openai", "config": judge_config(server)}],
            "cache_path": str(tmp_path / "cache.sqlite"), **judging}


def test_a_judge_whose_replies_are_unreadable_stops_the_run_naming_it_and_its_share(
        server, tmp_path):
    """Before: every reply unreadable ended the run with exit 0 and one INFO line."""
    from ct_spatial_bench.judges.engine import JudgeFailureShareError, judge_as_configured

    items, preds = qa_and_predictions(20)
    preds[3]["prediction"] += " [[garbage]]"  # 1 of 20 = 5 %: at the default limit, allowed
    verdicts = judge_as_configured(items, preds, _settings(server, tmp_path))
    assert sum(v["verdict"] == "failed" for v in verdicts) == 1
    preds[5]["prediction"] += " [[garbage]]"  # 2 of 20 = 10 %: above it
    with pytest.raises(JudgeFailureShareError, match=r"judge openai failed 2 of 20 items \(10.0%\)"):
        judge_as_configured(items, preds, _settings(server, tmp_path))
    # a model's errors are not the judge's failures
    for pred in preds[:10]:
        pred.update(status="error", error="boom")
    preds[3]["prediction"] = preds[5]["prediction"] = "fine"
    judge_as_configured(items, preds, _settings(server, tmp_path, max_failed_share=0.0))


def test_a_rejected_key_stops_that_judge_at_once(server, tmp_path):
    from ct_spatial_bench.judges.engine import JudgeFailureShareError, judge_as_configured

    items, preds = qa_and_predictions(40)
    settings = _settings(server, tmp_path)
    settings["judges"][0]["config"].update(api_key="wrong-key", concurrency=2)
    with pytest.raises(JudgeFailureShareError, match="judge openai failed 40 of 40"):
        judge_as_configured(items, preds, settings)
    assert server.requests <= 2  # the calls in flight when the 401 came back, no more


def test_the_judging_pipeline_writes_the_verdicts_before_it_stops():
    from ct_spatial_bench.pipelines.judging.pipeline import create_pipeline

    nodes = {n.name: n for n in create_pipeline().nodes}
    stop = nodes["stop_if_judges_failed"]
    assert "verdicts" in stop.inputs and "judge_token_usage" in stop.inputs
    assert nodes["judge_predictions"].outputs == ["verdicts"]


def test_a_claim_lost_during_a_pause_is_not_paid_again(server, tmp_path):
    """A run whose claims lapsed (paused past the lease) and were taken by another run must not
    send those calls when it resumes. Simulated: another store takes the claims between this
    run's claim and its first call."""
    import asyncio

    from ct_spatial_bench.judges.cache import VerdictCache
    from ct_spatial_bench.judges.loop import run_judge
    from ct_spatial_bench.judges.registry import create_judge
    from ct_spatial_bench.judges.engine import pending_tasks

    items, preds = qa_and_predictions(6)
    judge = create_judge("openai", judge_config(server, concurrency=1))
    path = tmp_path / "cache.sqlite"
    with VerdictCache(path) as mine, VerdictCache(path) as other:
        tasks, _ = pending_tasks(judge, list(zip(items, preds)), mine)
        original = mine.claim

        def claim_then_lapse(keys, lease_s, stale=frozenset()):
            got = original(keys, lease_s, stale)
            # the pause: our leases run out and the other run claims and answers 4 of them
            mine._db.execute("UPDATE claims SET expires = 0")
            taken = other.claim([t.key for t in tasks[:4]], 60.0)
            for key in taken:
                other.put(key, "openai", judge.model, judge.prompt_version, "correct",
                          "other run", "{}", {}, 0.0, "", 0)
            mine.claim = original
            return got

        mine.claim = claim_then_lapse
        results = asyncio.run(run_judge(judge, tasks, mine, progress=False, lease_s=60.0))
    assert len(results) == 6
    assert server.requests == 2  # only the two items the other run did not take
    assert sum(r["reason"] == "other run" for r in results.values()) == 4


@pytest.mark.slow
def test_sigstop_past_the_lease_pays_twice_at_most_the_calls_in_flight(server, tmp_path):
    """Two real processes: A is stopped (SIGSTOP) past its lease while B judges the same items;
    after SIGCONT, A pays again for at most its calls in flight (concurrency 1)."""
    import json
    import os
    import signal
    import subprocess
    import sys
    import time

    from reliability_helpers import CHILD

    items, preds = qa_and_predictions(12)
    server.latency_s = 0.15
    config = judge_config(server, concurrency=1)
    args = json.dumps([config, items, preds, str(tmp_path / "c.sqlite"), 1.0])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    a = subprocess.Popen([sys.executable, "-c", CHILD, args], env=env, stdout=subprocess.PIPE)
    deadline = time.monotonic() + 30
    while server.requests < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    a.send_signal(signal.SIGSTOP)
    time.sleep(1.5)  # past A's 1 s lease
    b = subprocess.run([sys.executable, "-c", CHILD, args], env=env, capture_output=True,
                       timeout=60)
    a.send_signal(signal.SIGCONT)
    out_a, _ = a.communicate(timeout=60)
    assert b.returncode == 0 and a.returncode == 0
    assert json.loads(out_a) == json.loads(b.stdout)
    twice = [p for (_, p), n in server.asked.items() if n > 1]
    assert len(twice) <= 1, twice  # A's one call in flight when it was stopped


def test_the_journal_mode_follows_the_filesystem(tmp_path):
    from ct_spatial_bench.llm.cache import journal_mode_for

    mounts = tmp_path / "mounts"
    mounts.write_text("/dev/sda1 / ext4 rw 0 0\n"
                      f"server:/export {tmp_path / 'shared'} nfs4 rw,vers=4.2 0 0\n")
    (tmp_path / "shared" / "cache").mkdir(parents=True)
    (tmp_path / "local").mkdir()
    assert journal_mode_for(tmp_path / "shared" / "cache", "auto", mounts) == "delete"
    assert journal_mode_for(tmp_path / "local", "auto", mounts) == "wal"
    assert journal_mode_for(tmp_path / "shared", "wal", mounts) == "wal"  # the override
    with pytest.raises(ValueError, match="journal mode"):
        journal_mode_for(tmp_path, "memory", mounts)


def test_two_processes_share_a_rollback_journal_cache_and_pay_once(server, tmp_path):
    import json
    import os
    import sqlite3
    import subprocess
    import sys

    from ct_spatial_bench.judges.cache import VerdictCache

    path = tmp_path / "cache.sqlite"
    VerdictCache(path, "delete").close()
    child = """
import json, sys
from ct_spatial_bench.judges.registry import create_judge
from ct_spatial_bench.judges.engine import judge_predictions
config, items, preds, cache = json.loads(sys.argv[1])
verdicts = judge_predictions([create_judge("openai", config)], items, preds, cache_path=cache,
                             progress=False, journal_mode="delete")
print(json.dumps({v["qa_id"]: v["verdict"] for v in verdicts}))
"""
    items, preds = qa_and_predictions(16)
    server.latency_s = 0.05
    args = json.dumps([judge_config(server, concurrency=2), items, preds, str(path)])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    runs = [subprocess.Popen([sys.executable, "-c", child, args], env=env,
                             stdout=subprocess.PIPE) for _ in range(2)]
    outputs = [json.loads(run.communicate(timeout=120)[0]) for run in runs]
    assert outputs[0] == outputs[1] and len(outputs[0]) == 16
    assert max(server.asked.values()) == 1 and len(server.asked) == 16  # each item paid once
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    db.close()


def test_an_undecodable_reply_is_kept_failed_and_asked_again_only_on_refresh(server, tmp_path):
    from ct_spatial_bench.judges.registry import create_judge
    from ct_spatial_bench.judges.engine import judge_predictions

    items, preds = qa_and_predictions(2)
    preds[0]["prediction"] = items[0]["answer"] + " [[nonutf8x1]]"
    judge = create_judge("openai", judge_config(server))
    cache = tmp_path / "cache.sqlite"
    first = judge_predictions([judge], items, preds, cache_path=cache, progress=False)
    assert first[0]["verdict"] == "failed" and "\\xff" in first[0]["raw"]
    assert "undecodable" in first[0]["reason"]
    judge_predictions([judge], items, preds, cache_path=cache, progress=False)
    assert server.requests == 2  # the rerun did not pay for it again
    again = judge_predictions([judge], items, preds, cache_path=cache, progress=False,
                              refresh="failed")
    assert server.requests == 3 and again[0]["verdict"] == "correct"
    assert GOOD_KEY  # the server's key, used by judge_config


def test_a_lapsed_claim_is_re_claimed_when_free_and_given_up_when_taken(tmp_path):
    from ct_spatial_bench.judges.cache import VerdictCache

    path = tmp_path / "cache.sqlite"
    with VerdictCache(path) as mine, VerdictCache(path) as other:
        assert mine.claim(["a", "b", "c"], 60.0) == {"a", "b", "c"}
        mine._db.execute("UPDATE claims SET expires = 0")  # paused past the lease
        assert mine.hold(["a"], 60.0)  # nobody took it: re-claimed
        assert mine._db.execute("SELECT expires FROM claims WHERE key = 'a'").fetchone()[0] > 1
        assert other.claim(["b"], 60.0) == {"b"}
        assert not mine.hold(["b"], 60.0)  # another run holds it now
        other.put("c", "p", "m", "v", "correct", "", "", {}, 0.0)
        assert not mine.hold(["c"], 60.0)  # another run answered it meanwhile
