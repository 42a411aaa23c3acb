"""The LLM spatial filter and category tagger (upstream's Gemini steps), beside the rules.

Two prompts, each versioned in ``conf/base/curation_prompts``: the filter answers
``{"is_spatial": bool}`` for a QA pair, the tagger ``{"categories": [...]}`` with names from the
six categories. Each step asks about all its items at once through the shared provider layer
(``curation.llm_client.json_replies``), validating each reply and caching the valid ones by
(provider, model, prompt version, filled prompt).

``form="upstream"`` asks as CT-SpatialVQA's scripts did (``protocol: upstream``): the filter is
llm_judge.py's, up to ``batch_size`` (5) pairs of one case a call with the case's report,
answered ``[{index, is_spatial, is_relevant}]`` and a pair kept only when both are true; the
tagger is get_qa_pairs_categories.py's, one pair a call answered with a list of names. Replies are
matched to pairs by index (judges.parsing.parse_batch, never by position as llm_judge.py's
filter_qa_pairs.py did), and a pair the reply leaves out or answers unreadably is an error for
that pair (dropped, as upstream's placeholder was), not a guess.
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
from ct_spatial_bench.records import QAItem
from ct_spatial_bench.spatial.categories import CATEGORIES, canonical_category

NO_REPORT = "(none provided)"  # what llm_judge.py sends for an empty findings or impressions

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


def validate_upstream_tagger_reply(reply: list[Any]) -> list[str]:
    """Upstream's tagger reply (a list of names) in canonical names and order."""
    if not all(isinstance(name, str) for name in reply):
        raise ReplyError("reply is not a list of category names")
    return validate_tagger_reply({"categories": [n for n in reply if n.strip()]})


def _upstream_batches(items: list[QAItem], size: int) -> dict[str, list[QAItem]]:
    """``{batch id: items}``: each case's pairs in their order, ``size`` a call."""
    by_case: dict[str, list[QAItem]] = {}
    for item in items:
        by_case.setdefault(item.case_id, []).append(item)
    return {f"{case}#{start // size}": pairs[start:start + size]
            for case, pairs in by_case.items() for start in range(0, len(pairs), size)}


def upstream_filter_fields(batch: list[QAItem]) -> dict[str, str]:
    """llm_judge.py's build_prompt fields for one batch of one case's pairs."""
    report = (batch[0].meta or {}).get("report") or {}
    qa_block = "\n".join(f"{i}. Q: {qa.question}\n   A: {qa.answer}"
                          for i, qa in enumerate(batch, start=1))
    return {"case_id": batch[0].case_id, "findings": report.get("findings") or NO_REPORT,
            "impressions": report.get("impressions") or NO_REPORT, "qa_block": qa_block}


def _upstream_decisions(batch: list[QAItem], reply: JsonReply) -> dict[str, tuple]:
    """``{qa_id: (JsonReply of keep, is_spatial, is_relevant)}`` read by index."""
    import json

    from ct_spatial_bench.judges.parsing import parse_batch
    from ct_spatial_bench.records import CORRECT, FAILED

    if reply.error:
        return {qa.qa_id: (JsonReply(error=reply.error), None, None) for qa in batch}
    text = json.dumps(reply.value)
    spatial = parse_batch(text, len(batch), "is_spatial")
    relevant = parse_batch(text, len(batch), "is_relevant")
    out = {}
    for qa, s, r in zip(batch, spatial, relevant):
        failed = [j.reason for j in (s, r) if j.verdict == FAILED]
        keep = JsonReply(error=f"ReplyError: {failed[0]}") if failed else JsonReply(
            s.verdict == CORRECT and r.verdict == CORRECT, cached=reply.cached)
        out[qa.qa_id] = (keep, s.verdict == CORRECT if s.verdict != FAILED else None,
                         r.verdict == CORRECT if r.verdict != FAILED else None)
    return out


class LLMSpatialClassifier:
    """Asks an LLM whether QA pairs are spatial and which categories they have, many at once."""

    def __init__(self, llm: CurationLLM, filter_prompt: Prompt | None = None,
                 tagger_prompt: Prompt | None = None, cache_path: str | None = None,
                 progress: bool = True, form: str = "project"):
        if form not in ("project", "upstream"):
            raise ValueError(f"qa_filtering.llm.form {form!r} is not project or upstream")
        self.form = form
        self.filter_details: dict[str, dict[str, Any]] = {}  # upstream: is_spatial, is_relevant
        self.llm = llm
        self.filter_prompt = filter_prompt
        self.tagger_prompt = tagger_prompt
        self.cache_path = cache_path
        self.progress = progress
        self.name = llm.name

    def _ask(self, prompt: Prompt | None, what: str, validate, items: list[QAItem]
             ) -> dict[str, JsonReply]:
        if prompt is None:
            raise ValueError(f"no {what} prompt configured")
        categories = "\n".join(f"- {c}" for c in CATEGORIES)
        fields = {item.qa_id: {"question": item.question, "answer": item.answer,
                               "categories": categories} for item in items}
        return json_replies(self.llm, prompt, fields, validate, self.cache_path,
                            desc=f"qa_filtering {what} (llm)", item_kind="QA item",
                            progress=self.progress)

    def is_spatial(self, items: list[QAItem]) -> dict[str, JsonReply]:
        """``{qa_id: reply}``, the value of each a bool (upstream: spatial and relevant)."""
        if self.form == "upstream":
            return self._upstream_filter(items)
        return self._ask(self.filter_prompt, "spatial filter", validate_filter_reply, items)

    def categories(self, items: list[QAItem]) -> dict[str, JsonReply]:
        """``{qa_id: reply}``, the value of each a list of canonical category names."""
        validate = (validate_upstream_tagger_reply if self.form == "upstream"
                    else validate_tagger_reply)
        return self._ask(self.tagger_prompt, "category tagger", validate, items)

    def _upstream_filter(self, items: list[QAItem]) -> dict[str, JsonReply]:
        if self.filter_prompt is None:
            raise ValueError("no spatial filter prompt configured")
        batches = _upstream_batches(items, self.filter_prompt.batch_size)
        without = sum(not (b[0].meta or {}).get("report") for b in batches.values())
        if without:
            logger.warning("qa_filtering (upstream form): %d of %d calls carry no report "
                           "(sent as %r, as llm_judge.py did)", without, len(batches), NO_REPORT)
        replies = json_replies(self.llm, self.filter_prompt,
                               {k: upstream_filter_fields(b) for k, b in batches.items()},
                               lambda reply: reply, self.cache_path,
                               desc="qa_filtering spatial+relevance filter (upstream)",
                               item_kind="batch", progress=self.progress)
        out = {}
        for key, batch in batches.items():
            for qa_id, (keep, spatial, relevant) in _upstream_decisions(batch,
                                                                        replies[key]).items():
                out[qa_id] = keep
                self.filter_details[qa_id] = {"llm_is_spatial": spatial,
                                              "llm_is_relevant": relevant}
        return out
