"""The LLM spatial filter and category tagger (upstream's Gemini steps), beside the rules.

Two prompts, each versioned in ``conf/base/curation_prompts``: the filter answers
``{"is_spatial": bool}`` for a QA pair, the tagger ``{"categories": [...]}`` with names from the
six categories. Each step asks about all its items at once through the shared provider layer
(``curation.llm_client.json_replies``), validating each reply and caching the valid ones by
(provider, model, prompt version, filled prompt).
"""

from __future__ import annotations

import logging
from typing import Any

from ct_spatial_bench.curation.llm_client import (
    CurationLLM,
    JsonReply,
    Prompt,
    ReplyError,
    json_replies,
)
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


class LLMSpatialClassifier:
    """Asks an LLM whether QA pairs are spatial and which categories they have, many at once."""

    def __init__(self, llm: CurationLLM, filter_prompt: Prompt | None = None,
                 tagger_prompt: Prompt | None = None, cache_path: str | None = None,
                 progress: bool = True):
        self.llm = llm
        self.filter_prompt = filter_prompt
        self.tagger_prompt = tagger_prompt
        self.cache_path = cache_path
        self.progress = progress
        self.name = llm.name

    def _ask(self, prompt: Prompt | None, what: str, validate, items: list[dict[str, Any]]
             ) -> dict[str, JsonReply]:
        if prompt is None:
            raise ValueError(f"no {what} prompt configured")
        categories = "\n".join(f"- {c}" for c in CATEGORIES)
        fields = {item["qa_id"]: {"question": item["question"], "answer": item["answer"],
                                  "categories": categories} for item in items}
        return json_replies(self.llm, prompt, fields, validate, self.cache_path,
                            desc=f"qa_filtering {what} (llm)", item_kind="QA item",
                            progress=self.progress)

    def is_spatial(self, items: list[dict[str, Any]]) -> dict[str, JsonReply]:
        """``{qa_id: reply}``, the value of each a bool."""
        return self._ask(self.filter_prompt, "spatial filter", validate_filter_reply, items)

    def categories(self, items: list[dict[str, Any]]) -> dict[str, JsonReply]:
        """``{qa_id: reply}``, the value of each a list of canonical category names."""
        return self._ask(self.tagger_prompt, "category tagger", validate_tagger_reply, items)
