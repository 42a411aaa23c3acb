"""The judges' verdicts on disk (an SQLite store, see ``ct_spatial_bench.llm.cache``).

The key is the judge's identity (``judge_identity``: its configured name, provider, normalised
base_url, model, prompt version and the parser that reads its replies) and the item (question,
reference answer, prediction): two configured judges never share a row, even with one model
name on two servers, while the same text judged for two models, or twice in one run, is one
call. Each verdict is committed as it arrives. Only replies are stored: a call that never got a reply (retries spent) is not cached, so
the next run asks again; an unparseable reply is cached as ``failed`` with its raw text (asking
again would pay for the same reply), and ``refresh="failed"`` asks those again.

The raw reply is kept with the revision of the parser that read it (and the item's index in a
batch reply): when a parser is revised, a cached reply is read again from its raw text, without
paying for it again (``judges.parsing.PARSER_VERSION``). Which parser reads a prompt's replies
(yes/no, batch, structured) is part of the key; its revision is kept in the row, so a stricter
revision re-reads instead of re-paying.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from ct_spatial_bench.errors import ConfigurationError
from ct_spatial_bench.llm.cache import SQLiteStore, record_key

KEY_VERSION = "judge-identity-v1"  # rows keyed before judges had an identity are not read


def judge_identity(judge: Any) -> dict[str, str]:
    """What makes a cached judge's verdict its own: name, provider, normalised base_url, model,
    prompt version and parser. The URL is the one the SDK calls, without credentials."""
    from ct_spatial_bench.judges.parsing import parser_name
    from ct_spatial_bench.llm.endpoints import normalised_url

    return {"name": judge.name, "provider": judge.provider,
            "base_url": normalised_url(getattr(judge.client, "base_url", None)),
            "model": judge.model, "prompt_version": judge.prompt_version,
            "parser": parser_name(judge.prompt.kind)}


def cache_key(identity: dict[str, str], question: str, answer: str, prediction: str) -> str:
    fields = [identity[k] for k in ("name", "provider", "base_url", "model", "prompt_version",
                                    "parser")]
    return record_key(KEY_VERSION, *fields, question, answer, prediction)


class DuplicateJudgeError(ConfigurationError, ValueError):
    """Two configured judges are one judge (or share a name): a jury would count it twice."""


def check_distinct_judges(judges: Sequence[Any]) -> None:
    """Refuse a jury in which two cached judges share a name, or are identical in all but
    name (same provider, server, model, prompt and parser), naming both."""
    names: dict[str, int] = {}
    same: dict[tuple, str] = {}
    for judge in judges:
        if judge.name in names:
            raise DuplicateJudgeError(f"two judges are named {judge.name!r}: give each its own "
                                      "'name' in judging.judges")
        names[judge.name] = 1
        if not getattr(judge, "cached", False):
            continue
        identity = judge_identity(judge)
        rest = tuple(v for k, v in identity.items() if k != "name")
        if rest in same:
            raise DuplicateJudgeError(
                f"judges {same[rest]!r} and {judge.name!r} are the same judge (provider "
                f"{identity['provider']}, {identity['base_url'] or 'default URL'}, model "
                f"{identity['model']}, prompt {identity['prompt_version']}): a jury would count "
                "one judge twice; remove one or make them differ")
        same[rest] = judge.name


class VerdictCache(SQLiteStore):
    """``get(key)``/``put(key, ...)`` over one SQLite file; ``path=None`` keeps it in memory."""

    table = "verdicts"
    columns = ("provider TEXT", "judge_model TEXT", "prompt_version TEXT", "verdict TEXT",
               "reason TEXT", "raw TEXT", "tokens TEXT", "latency_s REAL",
               "parser_version TEXT", "item_index INTEGER", "batch_size INTEGER")
    # Rows written before the parser was versioned: version unknown, so they are read again.
    # batch_size: how many items the reply answered (-1 unknown: a batch reply is not re-read,
    # its numbering cannot be checked; 0: the raw text is no reply to read, e.g. escaped bytes).
    added_columns = (("parser_version TEXT", "''"), ("item_index INTEGER", "-1"),
                     ("batch_size INTEGER", "-1"))

    def get(self, key: str) -> dict[str, Any] | None:
        row = self._db.execute(
            "SELECT verdict, reason, raw, tokens, latency_s, parser_version, item_index, "
            "batch_size FROM verdicts WHERE key = ?", (key,)
        ).fetchone()
        if row is None:
            return None
        return {"verdict": row[0], "reason": row[1], "raw": row[2],
                "tokens": json.loads(row[3]), "latency_s": row[4], "parser_version": row[5],
                "item_index": row[6], "batch_size": row[7]}

    def put(self, key: str, provider: str, judge_model: str, prompt_version: str,
            verdict: str, reason: str, raw: str, tokens: dict[str, int], latency_s: float,
            parser_version: str = "", item_index: int = 0, batch_size: int = 1) -> None:
        """Store one verdict and commit it before returning (autocommit mode)."""
        self._put(key, provider, judge_model, prompt_version, verdict, reason, raw,
                  json.dumps(tokens), float(latency_s), parser_version, int(item_index),
                  int(batch_size))
