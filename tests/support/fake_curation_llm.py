"""The judges' fake LLM server (tests/support/fake_llm_server.py), taught curation's prompts.

Requests are counted per subject: the report for QA generation, ``filter: <question>`` and
``tagger: <question>`` for the spatial filter and the category tagger. Directives such as
``[[429x1]]`` or ``[[garbagex1]]`` inside a report or a question apply to it.
"""

from __future__ import annotations

import json
import re

from support.fake_llm_server import GOOD_KEY, PROTOCOL, FakeLLMServer, cached_rows, run_and_kill

__all__ = ["API_KEYS", "GOOD_KEY", "PROTOCOL", "FakeLLMServer", "cached_rows", "curation_answer",
           "llm_settings", "run_and_kill"]

API_KEYS = {"openai": GOOD_KEY, "gemini": GOOD_KEY, "dashscope": GOOD_KEY}
_REPORT = re.compile(r"Radiology report of one chest CT:\n\n(.*?)\n\nWrite between", re.DOTALL)
_PAIR = re.compile(r"Question: (.*)\nAnswer: (.*)")


def generation_reply(report: str) -> str:
    """Eight usable pairs (and a blank one), or a single pair for a report saying BROKEN."""
    if "BROKEN" in report:
        return json.dumps({"qa_pairs": [{"question": "Only one?", "answer": "Yes."}]})
    pairs = [{"question": f"Question {i} about the right upper lobe?", "answer": f"Answer {i}."}
             for i in range(8)]
    pairs.append({"question": "", "answer": "blank question, dropped"})
    return "```json\n" + json.dumps({"qa_pairs": pairs}) + "\n```"


def curation_answer(user: str) -> tuple[str, str]:
    """(subject, reply text) for a curation prompt; a pair whose answer says FAIL gets prose."""
    report = _REPORT.search(user)
    if report:
        return report.group(1), generation_reply(report.group(1))
    question, answer = _PAIR.search(user).groups()
    if "FAIL" in answer:
        return f"pair: {question}", "I would rather not say."
    if "is_spatial" in user:
        return f"filter: {question}", json.dumps({"is_spatial": "lobe" in question})
    return f"tagger: {question}", json.dumps(
        {"categories": ["Laterality & Bilateral Symmetry", "longitudinal"]})


def llm_settings(server, provider: str, **config) -> dict:
    """A step's ``llm`` settings aimed at ``server``, with fast retries. The key is named in the
    config: a credentials key goes only to its provider's own host, never to a base_url."""
    return {"provider": provider, "max_tokens": 500,
            "config": {"base_url": server.urls[provider], "api_key": GOOD_KEY,
                       "backoff_base_s": 0.01,
                       "backoff_max_s": 0.05, "timeout_s": 1.0, "concurrency": 4, **config}}
