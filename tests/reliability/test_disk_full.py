"""A paid reply is stored or the run stops (before: 100 paid, 19 stored, 81 paid again).

A full disk is a file-size limit (RLIMIT_FSIZE) on a child process: a tmpfs of fixed size needs
root, which the tests do not have; past the limit a write fails with EFBIG, as it fails with
ENOSPC on a full disk, and SQLite reports both as a failed write."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from reliability_helpers import judge_config, prediction_text, qa_and_predictions

resource = pytest.importorskip("resource", reason="RLIMIT_FSIZE needs a POSIX system")

N_ITEMS = 60
LIMIT_BYTES = 96 * 1024

LIMITED_CHILD = """
import json, resource, signal, sys
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # past the limit a write fails instead of killing
config, items, preds, cache, limit = json.loads(sys.argv[1])
from ct_spatial_bench.judges.registry import create_judge
from ct_spatial_bench.judges.engine import judge_predictions
judge = create_judge("openai", config)
resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
judge_predictions([judge], items, preds, cache_path=cache, progress=False)
"""


def test_a_cache_that_cannot_be_written_stops_the_run(server, tmp_path):
    from support.killed_runs import cached_rows

    from ct_spatial_bench.judges.registry import create_judge
    from ct_spatial_bench.judges.engine import judge_predictions

    items, preds = qa_and_predictions(N_ITEMS)
    cache = tmp_path / "cache.sqlite"
    config = judge_config(server, concurrency=2)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run([sys.executable, "-c", LIMITED_CHILD,
                           json.dumps([config, items, preds, str(cache), LIMIT_BYTES])],
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode != 0
    assert "CacheWriteError" in done.stderr and str(cache) in done.stderr
    stored = cached_rows(cache, "verdicts")
    paid_first = sum(server.answered.values())
    assert 0 < stored < N_ITEMS
    # Stopped at once: only the replies in flight when the write failed are lost.
    assert paid_first - stored <= config["concurrency"]

    judge_predictions([create_judge("openai", config)], items, preds, cache_path=cache,
                      progress=False)
    answered = [server.answered[("openai", prediction_text(i))] for i in range(N_ITEMS)]
    assert sum(answered) - N_ITEMS == paid_first - stored <= config["concurrency"]
    assert cached_rows(cache, "verdicts") == N_ITEMS


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into a read-only folder anyway")
def test_a_read_only_cache_folder_fails_before_the_first_paid_call(server, tmp_path):
    from ct_spatial_bench.judges.registry import create_judge
    from ct_spatial_bench.judges.engine import judge_predictions
    from ct_spatial_bench.llm.cache import CacheWriteError

    folder = tmp_path / "cache"
    folder.mkdir()
    folder.chmod(0o500)
    items, preds = qa_and_predictions(3)
    try:
        with pytest.raises(CacheWriteError, match=str(folder / "verdicts.sqlite")):
            judge_predictions([create_judge("openai", judge_config(server))], items, preds,
                              cache_path=folder / "verdicts.sqlite", progress=False)
    finally:
        folder.chmod(0o700)
    assert server.requests == 0


def test_an_unwritable_cache_path_fails_before_the_first_paid_call(server, tmp_path):
    """The same preflight where the tests run as root: the cache's folder is a file."""
    from ct_spatial_bench.judges.registry import create_judge
    from ct_spatial_bench.judges.engine import judge_predictions
    from ct_spatial_bench.llm.cache import CacheWriteError

    (tmp_path / "cache").write_text("not a folder")
    items, preds = qa_and_predictions(3)
    with pytest.raises(CacheWriteError, match="cache cannot be written"):
        judge_predictions([create_judge("openai", judge_config(server))], items, preds,
                          cache_path=tmp_path / "cache" / "verdicts.sqlite", progress=False)
    assert server.requests == 0


def test_a_full_disk_names_the_file(tmp_path):
    """An atomic write that fails names its file (a full disk's own message names none)."""
    code = ("import resource, signal, sys\n"
            "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
            "resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))\n"
            "from ct_spatial_bench.fileio import atomic_write_bytes\n"
            "atomic_write_bytes(sys.argv[1], b'x' * 100000)\n")
    target = tmp_path / "verdicts.jsonl"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run([sys.executable, "-c", code, str(target)], env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert f"cannot write {target}" in done.stderr
    assert not target.exists() and list(tmp_path.iterdir()) == []  # no temporary left
