"""Reading a judge's reply: anchored YES/NO, and batched JSON matched by the returned index.

Anchored means the verdict word must open the reply (after an optional "Answer:" label and
markdown): "INCORRECT" never reads as "CORRECT", and "No, wait... yes" is NO. Anything else, a
refusal included, is ``failed`` with the raw text kept, never ``incorrect``.
"""

from __future__ import annotations

import json
import re
from typing import Any

from ct_spatial_bench.judges.base import Judgement
from ct_spatial_bench.records import CORRECT, FAILED, INCORRECT

_LEAD = r"^[\s\W_]*(?:(?:final\s+)?(?:answer|verdict|judg(?:e)?ment)\s*[:\-]\s*[\W_]*)?"
_VERDICT_WORD = re.compile(_LEAD + r"(yes|no|correct|incorrect|true|false)\b", re.IGNORECASE)
_WORD_VERDICT = {"yes": CORRECT, "correct": CORRECT, "true": CORRECT,
                 "no": INCORRECT, "incorrect": INCORRECT, "false": INCORRECT}


def parse_yes_no(text: str | None) -> Judgement:
    """The verdict of a single-item reply; unparseable or refused replies are ``failed``."""
    raw = text or ""
    match = _VERDICT_WORD.match(raw)
    if match is None:
        reason = "empty reply" if not raw.strip() else "unparseable reply (no leading YES or NO)"
        return Judgement(verdict=FAILED, reason=reason, raw=raw)
    word = match.group(1).lower()
    return Judgement(verdict=_WORD_VERDICT[word], reason=f"judge answered {word.upper()}", raw=raw)


def _verdict_of(value: Any) -> Judgement:
    if isinstance(value, bool):
        return Judgement(verdict=CORRECT if value else INCORRECT, reason=f"judge answered {value}")
    return parse_yes_no(value if isinstance(value, str) else "")


def _json_list(text: str) -> list[Any] | None:
    """The first JSON list in ``text`` (code fences and chatter around it ignored)."""
    start, end = text.find("["), text.rfind("]")
    candidates = [text[start:end + 1]] if 0 <= start < end else []
    brace_start, brace_end = text.find("{"), text.rfind("}")
    if 0 <= brace_start < brace_end:
        candidates.append(text[brace_start:brace_end + 1])
    for candidate in candidates:
        try:
            data = json.loads(candidate)
        except json.JSONDecodeError:
            continue
        if isinstance(data, dict):  # {"results": [...]} or similar wrapper
            data = next((v for v in data.values() if isinstance(v, list)), None)
        if isinstance(data, list):
            return data
    return None


def parse_batch(text: str | None, n_items: int) -> list[Judgement]:
    """One Judgement per item 1..n_items, matched by the reply's ``index``, never by position.

    An item the reply leaves out, names twice, or answers unreadably is ``failed``; every item's
    ``raw`` is the whole reply, so a failure can be inspected.
    """
    raw = text or ""
    entries = _json_list(raw)
    if entries is None:
        return [Judgement(verdict=FAILED, reason="unparseable batch reply (no JSON list)", raw=raw)
                for _ in range(n_items)]
    found: dict[int, list[Judgement]] = {}
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        try:
            index = int(entry.get("index"))
        except (TypeError, ValueError):
            continue
        judgement = _verdict_of(entry.get("verdict", entry.get("answer")))
        if entry.get("reason"):
            judgement.reason = str(entry["reason"])
        found.setdefault(index, []).append(judgement)
    out = []
    for index in range(1, n_items + 1):
        answers = found.get(index, [])
        if len(answers) == 1 and answers[0].verdict != FAILED:
            out.append(Judgement(verdict=answers[0].verdict, reason=answers[0].reason, raw=raw))
        elif not answers:
            out.append(Judgement(verdict=FAILED, reason=f"item {index} missing from batch reply",
                                 raw=raw))
        elif len(answers) > 1:
            out.append(Judgement(verdict=FAILED, reason=f"item {index} answered twice", raw=raw))
        else:
            out.append(Judgement(verdict=FAILED, reason=f"item {index}: {answers[0].reason}",
                                 raw=raw))
    return out
