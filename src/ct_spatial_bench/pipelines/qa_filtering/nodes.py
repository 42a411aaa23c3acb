"""Nodes that keep the questions needing spatial reasoning and tag their spatial categories."""

from __future__ import annotations

from typing import Any


def filter_spatial_questions(
    qa_candidates: list[dict[str, Any]], params: dict[str, Any],
    api_keys: dict[str, str | None] | None = None,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Keep spatial questions and tag them; return the benchmark and every candidate's decision.

    ``params``: the filter (``spatial_filter``: rules, llm, keep_all), the tagger
    (``categories``: rules, llm, given) and their LLM (``curation.filtering.filter_as_configured``).
    """
    from ct_spatial_bench.curation.filtering import filter_as_configured

    return filter_as_configured(qa_candidates, params, api_keys)
