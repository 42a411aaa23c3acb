"""The judges' verdicts on disk (an SQLite store, see ``ct_spatial_bench.llm.cache``).

The key is (provider, judge model, prompt version, question, reference answer, prediction): the
same text judged for two models, or twice in one run, is one call. Each verdict is committed as it
arrives. Only replies are stored: a call that never got a reply (retries spent) is not cached, so
the next run asks again; an unparseable reply is cached as ``failed`` with its raw text (asking
again would pay for the same reply), and ``refresh="failed"`` asks those again.

The raw reply is kept with the version of the parser that read it (and the item's index in a
batch reply): when the parser changes, a cached reply is read again from its raw text, without
paying for it again (``judges.parsing.PARSER_VERSION``).
"""

from __future__ import annotations

import json
from typing import Any

from ct_spatial_bench.llm.cache import SQLiteStore, record_key


def cache_key(provider: str, judge_model: str, prompt_version: str,
              question: str, answer: str, prediction: str) -> str:
    return record_key(provider, judge_model, prompt_version, question, answer, prediction)


class VerdictCache(SQLiteStore):
    """``get(key)``/``put(key, ...)`` over one SQLite file; ``path=None`` keeps it in memory."""

    table = "verdicts"
    columns = ("provider TEXT", "judge_model TEXT", "prompt_version TEXT", "verdict TEXT",
               "reason TEXT", "raw TEXT", "tokens TEXT", "latency_s REAL",
               "parser_version TEXT", "item_index INTEGER")
    # Rows written before the parser was versioned: version unknown, so they are read again.
    added_columns = (("parser_version TEXT", "''"), ("item_index INTEGER", "-1"))

    def get(self, key: str) -> dict[str, Any] | None:
        row = self._db.execute(
            "SELECT verdict, reason, raw, tokens, latency_s, parser_version, item_index "
            "FROM verdicts WHERE key = ?", (key,)
        ).fetchone()
        if row is None:
            return None
        return {"verdict": row[0], "reason": row[1], "raw": row[2],
                "tokens": json.loads(row[3]), "latency_s": row[4], "parser_version": row[5],
                "item_index": row[6]}

    def put(self, key: str, provider: str, judge_model: str, prompt_version: str,
            verdict: str, reason: str, raw: str, tokens: dict[str, int], latency_s: float,
            parser_version: str = "", item_index: int = 0) -> None:
        """Store one verdict and commit it before returning (autocommit mode)."""
        self._put(key, provider, judge_model, prompt_version, verdict, reason, raw,
                  json.dumps(tokens), float(latency_s), parser_version, int(item_index))
