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
from collections.abc import Sequence
from typing import Any

from ct_spatial_bench.judges.base import Judgement
from ct_spatial_bench.records import CORRECT, FAILED, INCORRECT

PARSER_VERSION = "strict-v3"
# Which parser reads a prompt kind's replies (part of the verdict cache key; see judges/cache.py).
_PARSERS = {"single": "yes_no", "batch": "batch_json", "structured": "structured_json"}

_LEAD = (r"^[\s*_`#>~\-]*(?:(?:final\s+)?(?:answer|verdict|judg(?:e)?ment)[\s*_`]*[:\-][\s*_`]*)?")
_VERDICT_WORD = re.compile(_LEAD + r"(yes|no|correct|incorrect|true|false)(?![\w'])(?P<rest>.*)\Z",
                           re.IGNORECASE | re.DOTALL)
# What may follow the word: nothing (closing markdown and spaces aside), or punctuation or a line
# break, then anything (a justification). A question mark is not among them: "Correct? No." asks.
_AFTER = re.compile(r"[*_`\s]*\Z|[*_`]*[ \t]*[.,;:!)\]\u2013\u2014-]|[*_`]*[ \t]*\r?\n", re.DOTALL)
_VERBS = (r"help|assist|provide|answer|determine|judge|comply|evaluate|access|view|see|give|"
          r"offer|make|diagnose|fulfil+|complete|process|respond|verify|interpret|tell|say|"
          r"decide|confirm|review|read|open|do|continue|generate|proceed")
# Texts that are not about the item: the service or the assistant talking, not a verdict. Each
# family is written from what providers document and send (OpenAI, Gemini and DashScope error
# codes and messages, their models' refusals); CT vocabulary ("blocked bronchus", "not found in
# the reference", "insufficient detail") is left alone.
_NOT_A_VERDICT = re.compile("|".join([
    # refuses or cannot
    r"\brefus", r"\bdeclin(?:e|ed|ing)\b", r"\bnot\s+(?:allowed|permitted|comfortable)\b",
    rf"\b(?:can\s*not|can[’']?t|unable\s+to|not\s+able\s+to|won[’']?t|will\s+not|must\s+not)"
    rf"\s+(?:\w+\s+){{0,2}}?(?:{_VERBS})\b",
    r"\b(?:polic(?:y|ies)|guidelines?|terms\s+of\s+(?:use|service)|inappropriate|moderation|"
    r"flagged|content[\s_-]?filter|safety\s+(?:system|filter|settings|reasons?))\b",
    # apologises, or speaks as the assistant
    r"\bsorry\b", r"\bapolog", r"\bunfortunately\b", r"\bregret",
    r"\bas\s+an?\s+(?:ai|language|assistant)", r"\blanguage\s+model\b",
    r"\bi[’']?m\s+(?:just|only)\s+an?\b", r"\bi\s+am\s+(?:just|only)?\s*an?\s+ai\b",
    r"\b(?:i\s+can\s+help|happy\s+to\s+help|glad\s+to\s+help|help\s+you|how\s+can\s+i|"
    r"assist\s+you)\b",
    r"\b(?:not\s+sure|unsure|don[’']?t\s+know|do\s+not\s+know|impossible\s+to\s+(?:say|tell)|"
    r"cannot\s+be\s+determined|can[’']?t\s+be\s+determined)\b",
    # reports an error or a status
    r"(?<![\d.])(?:[1-5]\d\d)(?![\d.]|\s*(?:mm|cm|ml|cc|hu|%|mg|ms|slices?)\b)",
    r"\bstatus\s*(?:code|:|=|\d)", r"\bhttps?\b", r"\berror\s*(?:code|:|\(|\d|occurred|while|processing)",
    r"\b(?:internal|server|gateway|api|network|connection|upstream|service|request|validation|"
    r"authentication|timeout|unknown|unexpected)\s+error\b", r"\ban?\s+error\s+(?:has\s+)?occurr",
    r"\bexception\b", r"\btraceback\b", r"\boverload", r"\bunavailable\b",
    r"time[sd]?[\s_-]?out\b", r"\bauthenticat", r"\borgani[sz]ation\b",
    r"\b(?:country|territory)\b", r"\blocation\s+is\s+not\s+supported\s+for\b", r"\btimed\s+out\b", r"\brate[\s_-]?limit", r"\bquota\b",
    r"\bthrottl", r"\btoo\s+many\s+requests\b", r"\bcapacity\b", r"\btry\s+again\b",
    r"\bretry", r"\bbad\s+gateway\b", r"\bserver\b", r"\bupstream\b", r"\bmaintenance\b",
    r"\b(?:unauthori[sz]ed|forbidden|access\s+denied|permission\s+denied|"
    r"invalid\s+(?:api|request|argument|parameter|model|key|token|input)|api[\s_-]?key|"
    r"billing|credits?\b|balance\b|arrear|your\s+account|account\s+(?:is|has)|"
    r"exceed(?:ed|s)?\s+(?:your\s+|the\s+)?(?:quota|limit|rate|maximum|context|token)|"
    r"context[\s_]length|max(?:imum)?[\s_]tokens|token\s+limit|"
    r"(?:request|prompt|response|content|output|input)\s+(?:was\s+|has\s+been\s+|is\s+)?"
    r"(?:blocked|rejected|filtered)|blocked\s+(?:by|due|for)|"
    r"(?:model|resource|endpoint|deployment|page)\s+(?:\S+\s+)?(?:not\s+found|does\s+not\s+exist))",
    # changes its mind
    r"\bwait\b", r"\bon\s+second\s+thought",
    # asks for something
    r"\?", r"\bplease\b", r"\b(?:could|can|would)\s+you\b", r"\bclarif",
    r"\blet\s+me\s+know\b", r"\b(?:need|require)s?\s+(?:more|additional|the|further)\b",
    r"\bmore\s+(?:information|context|details)\b",
    r"\binsufficient\s+(?:information|context|data)\b",
    r"\b(?:upload|attach|share)\b",
    r"\b(?:image|scan|ct|file)s?\s+(?:is|are|was|were)\s+not\s+(?:provided|available|"
    r"attached|included|shown)",
]), re.IGNORECASE)
# Status and error codes as the APIs spell them (Gemini's google.rpc codes, DashScope's codes).
_CODES = re.compile(
    r"\b(?:RESOURCE_EXHAUSTED|DEADLINE_EXCEEDED|INVALID_ARGUMENT|PERMISSION_DENIED|UNAUTHENTICATED"
    r"|FAILED_PRECONDITION|NOT_FOUND|UNAVAILABLE|INTERNAL|ABORTED|CANCELLED|UNKNOWN)\b"
    r"|\b(?:Throttling|InvalidApiKey|InvalidParameter|DataInspectionFailed|Arrearage|"
    r"InternalError|ModelServiceFailed|AccessDenied|BadRequest|RequestTimeOut|"
    r"ModelNotFound|ServiceUnavailable)\b")
_WORD_VERDICT = {"yes": CORRECT, "correct": CORRECT, "true": CORRECT,
                 "no": INCORRECT, "incorrect": INCORRECT, "false": INCORRECT}


def parser_name(prompt_kind: str) -> str:
    """The parser that reads replies to a prompt of ``prompt_kind`` (single, batch, structured)."""
    return _PARSERS[prompt_kind]


def not_a_verdict(text: str) -> bool:
    """Whether ``text`` refuses, apologises, reports an error or a status, or asks for something."""
    return bool(_NOT_A_VERDICT.search(text) or _CODES.search(text))


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
                         "into other words, or is asked)", raw=raw)
    if not_a_verdict(match["rest"]):
        return Judgement(verdict=FAILED, reason="not a verdict (a refusal, apology, error or "
                         "status text, offer of help or request after the verdict word)", raw=raw)
    word = match.group(1).lower()
    return Judgement(verdict=_WORD_VERDICT[word], reason=f"judge answered {word.upper()}", raw=raw)


# The structured verdict every provider is asked for (judges/prompts.py, llm clients).
def parse_structured(text: str | None) -> Judgement:
    """A reply to the structured prompt: exactly ``{"verdict": correct|incorrect|cannot_judge,
    "reason": str}``. Anything that does not validate, and ``cannot_judge``, is ``failed``; so is
    a reason that refuses or reports an error (the verdict then is not about the item)."""
    raw = text or ""
    body = re.sub(r"^\s*```(?:json)?\s*|\s*```\s*$", "", raw)
    try:
        data = json.loads(body)
    except (json.JSONDecodeError, ValueError):
        return Judgement(verdict=FAILED, reason="structured reply is not JSON", raw=raw)
    if not isinstance(data, dict) or set(data) != {"verdict", "reason"} or \
            not isinstance(data["verdict"], str) or not isinstance(data["reason"], str):
        return Judgement(verdict=FAILED, reason="structured reply does not match the verdict "
                         "schema ({verdict, reason})", raw=raw)
    verdict, reason = data["verdict"], data["reason"]
    if verdict == "cannot_judge":
        return Judgement(verdict=FAILED, reason=f"judge cannot judge: {reason}", raw=raw)
    if verdict not in (CORRECT, INCORRECT):
        return Judgement(verdict=FAILED, reason=f"verdict {verdict!r} is not in the schema",
                         raw=raw)
    if not_a_verdict(reason):
        return Judgement(verdict=FAILED, reason=f"not a verdict (the reason refuses or reports "
                         f"an error): {reason}", raw=raw)
    return Judgement(verdict=verdict, reason=reason, raw=raw)


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


def numbering_problem(numbers: Sequence[Any], n_items: int) -> str | None:
    """Why a batch reply's item numbers are not exactly 1..n_items, each once (None: they are).

    Any batch format uses it (ours, upstream's): a reply numbered from 0, with an item missing,
    one extra or one twice cannot be matched to the items asked, so the whole batch fails rather
    than shifting verdicts onto other items."""
    asked = list(range(1, n_items + 1))
    try:
        given = [int(n) if not isinstance(n, bool) and str(n).strip().lstrip("-").isdigit()
                 else None for n in numbers]
    except (TypeError, ValueError):
        given = [None]
    if None in given:
        return "an item number that is not a whole number"
    if sorted(given) == asked:
        return None
    missing = sorted(set(asked) - set(given))
    extra = sorted(set(given) - set(asked))
    twice = sorted({n for n in given if given.count(n) > 1})
    parts = [f"missing {missing}" if missing else "", f"not asked {extra}" if extra else "",
             f"twice {twice}" if twice else ""]
    return f"item numbers are not exactly 1..{n_items}: " + ", ".join(p for p in parts if p)


def parse_batch(text: str | None, n_items: int, reply_key: str = "verdict") -> list[Judgement]:
    """One Judgement per item 1..n_items, matched by the reply's ``index``, never by position.

    ``reply_key`` is the field holding each verdict (``verdict``: YES/NO; upstream's
    ``is_correct``: true/false, where null is ``failed``).

    The reply's numbers must be exactly 1..n_items, each once (``numbering_problem``); otherwise
    every item of the batch is ``failed``. An item answered unreadably is ``failed`` alone. Every
    item's ``raw`` is the whole reply, so a failure can be inspected.
    """
    raw = text or ""
    entries = _json_list(raw)
    if entries is None:
        return [Judgement(verdict=FAILED, reason="unparseable batch reply (no JSON list)", raw=raw)
                for _ in range(n_items)]
    entries = [e if isinstance(e, dict) else {} for e in entries]
    problem = numbering_problem([e.get("index") for e in entries], n_items)
    if problem:
        return [Judgement(verdict=FAILED, reason=f"batch reply refused: {problem}", raw=raw)
                for _ in range(n_items)]
    by_number = {int(e["index"]): e for e in entries}
    out = []
    for index in range(1, n_items + 1):
        entry = by_number[index]
        judgement = _verdict_of(entry.get(reply_key, entry.get("answer")))
        if judgement.verdict == FAILED:
            out.append(Judgement(verdict=FAILED, reason=f"item {index}: {judgement.reason}",
                                 raw=raw))
        else:
            reason = str(entry["reason"]) if entry.get("reason") else judgement.reason
            out.append(Judgement(verdict=judgement.verdict, reason=reason, raw=raw))
    return out
