"""LLM results on disk (SQLite in WAL mode), so a rerun or a crash re-pays nothing.

``SQLiteStore`` is the shared part: one file, WAL, every write committed before it returns.
``ReplyCache`` keeps reply texts keyed by (provider, model, prompt version, input text); the
judges' ``VerdictCache`` keeps parsed verdicts the same way. Only replies worth keeping are put:
a call that never got a reply is not cached, so the next run asks again.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from pathlib import Path
from typing import Any


def record_key(*fields: str) -> str:
    """A digest of the fields, JSON-encoded so that no separator can make two keys collide."""
    return hashlib.sha256(json.dumps(list(fields), ensure_ascii=False).encode("utf-8")).hexdigest()


class SQLiteStore:
    """One table in one SQLite file; ``path=None`` keeps it in memory. Autocommit: each write is
    durable once the call returns.

    A subclass names its ``table`` and its ``columns`` ("name TYPE", all NOT NULL) between the
    ``key`` primary key and the ``created`` time every row gets.
    """

    table = ""
    columns: tuple[str, ...] = ()

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
        columns = ", ".join(f"{c} NOT NULL" for c in (*self.columns, "created REAL"))
        self._db.execute(f"CREATE TABLE IF NOT EXISTS {self.table} "
                         f"(key TEXT PRIMARY KEY, {columns})")

    def _put(self, key: str, *values: Any) -> None:
        """Insert or replace one row (``values`` in ``columns`` order), committed on return."""
        marks = ", ".join("?" * (len(values) + 2))
        self._db.execute(f"INSERT OR REPLACE INTO {self.table} VALUES ({marks})",
                         (key, *values, time.time()))

    def __len__(self) -> int:
        return self._db.execute(f"SELECT COUNT(*) FROM {self.table}").fetchone()[0]

    def close(self) -> None:
        self._db.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class ReplyCache(SQLiteStore):
    """Reply texts: ``get(key)`` -> ``{text, tokens, latency_s}`` or None; ``put`` commits one."""

    table = "replies"
    columns = ("provider TEXT", "model TEXT", "prompt_version TEXT", "text TEXT", "tokens TEXT",
               "latency_s REAL")

    @staticmethod
    def key(provider: str, model: str, prompt_version: str, input_text: str) -> str:
        return record_key(provider, model, prompt_version, input_text)

    def get(self, key: str) -> dict[str, Any] | None:
        row = self._db.execute("SELECT text, tokens, latency_s FROM replies WHERE key = ?",
                               (key,)).fetchone()
        if row is None:
            return None
        return {"text": row[0], "tokens": json.loads(row[1]), "latency_s": row[2]}

    def put(self, key: str, provider: str, model: str, prompt_version: str, text: str,
            tokens: dict[str, int], latency_s: float) -> None:
        self._put(key, provider, model, prompt_version, text, json.dumps(tokens),
                  float(latency_s))
