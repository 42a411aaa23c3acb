"""A run killed like a crashed job, and what it left in its SQLite cache: for the tests that
prove a resumed run asks the fake server (fake_llm_server.py) nothing twice."""

from __future__ import annotations

import sys
import time


def cached_rows(path, table: str) -> int:
    """Rows in ``table`` of the SQLite cache at ``path`` (0 before it exists), read-only."""
    import sqlite3
    from pathlib import Path

    if not Path(path).exists():
        return 0
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
    except sqlite3.OperationalError:  # the writer has not created the table yet
        return 0
    finally:
        db.close()


def run_and_kill(server, code: str, args, cache, table: str,
                 answers: int) -> None:
    """Run ``code`` in a child Python (``sys.argv[1]`` is ``args`` as JSON) against ``server``,
    which stops answering after ``answers`` replies; SIGKILL the child, like a crashed job, once
    every reply sent is committed to ``table`` of ``cache`` and nothing has moved for 0.5 s."""
    import json
    import os
    import signal
    import subprocess

    server.stop_answering_after = answers  # then requests hang, as a run about to die
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    child = subprocess.Popen([sys.executable, "-c", code, json.dumps(args)], env=env)
    deadline, stable_since, last = time.monotonic() + 60, None, None
    while time.monotonic() < deadline:
        answered = sum(server.answered.values())
        state = (answered, cached_rows(cache, table))
        if answered >= answers and state[0] == state[1]:
            stable_since = stable_since if state == last else time.monotonic()
            if time.monotonic() - stable_since > 0.5:
                break
        last = state
        time.sleep(0.05)
    child.send_signal(signal.SIGKILL)
    child.wait(10)
    server.stop_answering_after = None
