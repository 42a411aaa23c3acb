"""Reading a judge's reply: strict YES/NO, and batched JSON matched by the returned index.

The rule (also written in conf/base/judge_prompts/radiologist_yes_no_v1.yml): a reply is a verdict
when it is the verdict word alone (YES or NO; CORRECT/INCORRECT and TRUE/FALSE too), after an
optional "Answer:" label and markdown, or the word followed *at once* by punctuation or a line
break and a justification ("NO. The reference says left."). A verdict word that runs on into other
words ("No response from upstream model (error 502)", "Yesterday") is not a verdict. A reply that
does not answer the question asked is ``failed`` even when it opens with a verdict word: refusals,
apologies, error texts and offers of help ("Yes, I can help with that!"), as are empty and
markdown-only replies. ``failed`` keeps the raw text and is never ``incorrect``.

``PARSER_VERSION`` names this rule: the cache keeps each raw reply with the version that read it,
so a changed parser re-reads cached replies without paying for them again.
"""

from __future__ import annotations

import json
import re
from typing import Any

from ct_spatial_bench.judges.base import Judgement
from ct_spatial_bench.records import CORRECT, FAILED, INCORRECT

PARSER_VERSION = "strict-v2"

_LEAD = (r"^[\s*_`#>~\-]*(?:(?:final\s+)?(?:answer|verdict|judg(?:e)?ment)[\s*_`]*[:\-][\s*_`]*)?")
_VERDICT_WORD = re.compile(_LEAD + r"(yes|no|correct|incorrect|true|false)(?![\w'])(?P<rest>.*)\Z",
                           re.IGNORECASE | re.DOTALL)
# What may follow the word: nothing (closing markdown and spaces aside), or punctuation or a line
# break, then anything (a justification).
_AFTER = re.compile(r"[*_`\s]*\Z|[*_`]*[ \t]*[.,;:!?)\]\u2013\u2014-]|[*_`]*[ \t]*\r?\n", re.DOTALL)
# Texts that are not about the item: the service or the assistant talking, not a verdict.
_NOT_A_VERDICT = re.compile(
    r"\b(?:i\s+can\s+help|happy\s+to\s+help|glad\s+to\s+help|help\s+you\s+with|how\s+can\s+i"
    r"|i'?m\s+sorry|i\s+am\s+sorry|apolog|as\s+an\s+ai|language\s+model|i\s+can(?:no|')t\s+"
    r"(?:help|assist|provide|answer|determine)|unable\s+to\s+(?:help|assist|provide|answer|comply)"
    r"|upstream|error\s+\d{3}|\b[45]\d\d\s+(?:bad|internal|service|gateway|too\s+many)"
    r"|status\s+code|rate\s+limit|service\s+unavailable|internal\s+server\s+error"
    r"|bad\s+gateway|timed?\s*out|try\s+again|quota)", re.IGNORECASE)
_WORD_VERDICT = {"yes": CORRECT, "correct": CORRECT, "true": CORRECT,
                 "no": INCORRECT, "incorrect": INCORRECT, "false": INCORRECT}


def parse_yes_no(text: str | None) -> Judgement:
    """The verdict of a single-item reply under the rule above; anything else is ``failed``."""
    raw = text or ""
    if not re.sub(r"[\s*_`#>~\-=|]", "", raw):
        reason = "empty reply" if not raw.strip() else "markdown-only reply"
        return Judgement(verdict=FAILED, reason=reason, raw=raw)
    match = _VERDICT_WORD.match(raw)
    if match is None:
        return Judgement(verdict=FAILED, reason="unparseable reply (no leading YES or NO)",
                         raw=raw)
    if not _AFTER.match(match["rest"]):
        return Judgement(verdict=FAILED, reason="unparseable reply (the verdict word runs on "
                         "into other words)", raw=raw)
    if _NOT_A_VERDICT.search(raw):
        return Judgement(verdict=FAILED, reason="not a verdict (a refusal, apology, error text "
                         "or offer of help)", raw=raw)
    word = match.group(1).lower()
    return Judgement(verdict=_WORD_VERDICT[word], reason=f"judge answered {word.upper()}", raw=raw)


def _verdict_of(value: Any) -> Judgement:
    if isinstance(value, bool):
        return Judgement(verdict=CORRECT if value else INCORRECT, reason=f"judge answered {value}")
    return parse_yes_no(value if isinstance(value, str) else "")


_TRAILING_COMMA = re.compile(r",\s*\]")


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
            try:  # a trailing comma before "]" (what upstream's sanitize_json repaired)
                data = json.loads(_TRAILING_COMMA.sub("]", candidate))
            except json.JSONDecodeError:
                continue
        if isinstance(data, dict):  # {"results": [...]} or similar wrapper
            data = next((v for v in data.values() if isinstance(v, list)), None)
        if isinstance(data, list):
            return data
    return None


def parse_batch(text: str | None, n_items: int, reply_key: str = "verdict") -> list[Judgement]:
    """One Judgement per item 1..n_items, matched by the reply's ``index``, never by position.

    ``reply_key`` is the field holding each verdict (``verdict``: YES/NO; upstream's
    ``is_correct``: true/false, where null is ``failed``).

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
        judgement = _verdict_of(entry.get(reply_key, entry.get("answer")))
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
