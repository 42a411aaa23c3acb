"""The LLM spatial filter and category tagger (upstream's Gemini steps), beside the rules.

Two prompts, each versioned in ``conf/base/prompts``: the filter answers ``{"is_spatial": bool}``
for a QA pair, the tagger ``{"categories": [...]}`` with names from the six categories. Replies
are validated and cached by (model, prompt version, question + answer). The result has the
same shape as the rules classifier's, with ``classifier="llm:<model>"`` and the prompt version.
"""

from __future__ import annotations

import logging
from typing import Any

from ct_spatial_bench.curation.llm_client import (
    LLMConfig, Prompt, ReplyCache, ReplyError, cached_json_reply, make_client)
from ct_spatial_bench.spatial.categories import CATEGORIES, canonical_category

logger = logging.getLogger(__name__)


def validate_filter_reply(reply: dict[str, Any]) -> bool:
    value = reply.get("is_spatial")
    if not isinstance(value, bool):
        raise ReplyError("reply lacks a boolean 'is_spatial'")
    return value


def validate_tagger_reply(reply: dict[str, Any]) -> list[str]:
    """The reply's categories in canonical names and order; an unknown name is an error."""
    names = reply.get("categories")
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise ReplyError("reply lacks a 'categories' list of names")
    try:
        chosen = {canonical_category(name.strip()) for name in names}
    except ValueError as exc:
        raise ReplyError(str(exc)) from exc
    return [cat for cat in CATEGORIES if cat in chosen]


def _pair_text(question: str, answer: str) -> str:
    return f"Q: {question}\nA: {answer}"


class LLMSpatialClassifier:
    """Asks the configured endpoint whether a QA pair is spatial and which categories it has."""

    def __init__(self, llm: LLMConfig, filter_prompt: Prompt | None = None,
                 tagger_prompt: Prompt | None = None, cache_path: str | None = None,
                 client: Any = None):
        self.llm = llm
        self.filter_prompt = filter_prompt
        self.tagger_prompt = tagger_prompt
        self.cache = ReplyCache(cache_path)
        self.client = client if client is not None else make_client(llm)
        self.name = f"llm:{llm.model}"

    def _ask(self, prompt: Prompt, validate, question: str, answer: str):
        value, _ = cached_json_reply(
            self.client, self.llm, self.cache, prompt, _pair_text(question, answer), validate,
            question=question, answer=answer, categories="\n".join(f"- {c}" for c in CATEGORIES))
        return value

    def is_spatial(self, question: str, answer: str) -> bool:
        if self.filter_prompt is None:
            raise ValueError("no spatial filter prompt configured")
        return self._ask(self.filter_prompt, validate_filter_reply, question, answer)

    def categories(self, question: str, answer: str) -> list[str]:
        if self.tagger_prompt is None:
            raise ValueError("no category tagger prompt configured")
        return self._ask(self.tagger_prompt, validate_tagger_reply, question, answer)
