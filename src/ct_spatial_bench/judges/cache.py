"""The judges' verdicts on disk (SQLite in WAL mode), so a rerun or a crash re-pays nothing.

The key is (provider, judge model, prompt version, question, reference answer, prediction): the
same text judged for two models, or twice in one run, is one call. Each verdict is committed as it
arrives. Only replies are stored: a call that never got a reply (retries spent) is not cached, so
the next run asks again; an unparseable reply is cached as ``failed`` with its raw text (asking
again would pay for the same reply), and ``refresh="failed"`` asks those again.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from pathlib import Path
from typing import Any

_SCHEMA = """
CREATE TABLE IF NOT EXISTS verdicts (
    key TEXT PRIMARY KEY,
    provider TEXT NOT NULL,
    judge_model TEXT NOT NULL,
    prompt_version TEXT NOT NULL,
    verdict TEXT NOT NULL,
    reason TEXT NOT NULL,
    raw TEXT NOT NULL,
    tokens TEXT NOT NULL,
    latency_s REAL NOT NULL,
    created REAL NOT NULL
)
"""


def cache_key(provider: str, judge_model: str, prompt_version: str,
              question: str, answer: str, prediction: str) -> str:
    """A digest of the six fields, JSON-encoded so that no separator can make two keys collide."""
    fields = [provider, judge_model, prompt_version, question, answer, prediction]
    return hashlib.sha256(json.dumps(fields, ensure_ascii=False).encode("utf-8")).hexdigest()


class VerdictCache:
    """``get(key)``/``put(key, ...)`` over one SQLite file; ``path=None`` keeps it in memory."""

    def __init__(self, path: str | Path | None) -> None:
        self.path = Path(path) if path else None
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(self.path) if self.path else ":memory:",
                                   isolation_level=None, check_same_thread=False)
        if self.path is not None:
            self._db.execute("PRAGMA journal_mode=WAL")
            # NORMAL in WAL mode: a commit survives a killed process (not a power cut), cheaply.
            self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(_SCHEMA)

    def get(self, key: str) -> dict[str, Any] | None:
        row = self._db.execute(
            "SELECT verdict, reason, raw, tokens, latency_s FROM verdicts WHERE key = ?", (key,)
        ).fetchone()
        if row is None:
            return None
        return {"verdict": row[0], "reason": row[1], "raw": row[2],
                "tokens": json.loads(row[3]), "latency_s": row[4]}

    def put(self, key: str, provider: str, judge_model: str, prompt_version: str,
            verdict: str, reason: str, raw: str, tokens: dict[str, int], latency_s: float) -> None:
        """Store one verdict and commit it before returning (autocommit mode)."""
        self._db.execute(
            "INSERT OR REPLACE INTO verdicts VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (key, provider, judge_model, prompt_version, verdict, reason, raw,
             json.dumps(tokens), float(latency_s), time.time()),
        )

    def __len__(self) -> int:
        return self._db.execute("SELECT COUNT(*) FROM verdicts").fetchone()[0]

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> VerdictCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
