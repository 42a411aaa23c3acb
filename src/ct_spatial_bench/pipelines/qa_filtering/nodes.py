"""Nodes that keep the questions needing spatial reasoning and tag their spatial categories."""

from __future__ import annotations

from typing import Any


def _llm_classifier(params: dict[str, Any]):
    from ct_spatial_bench.curation.llm_classifier import LLMSpatialClassifier
    from ct_spatial_bench.curation.llm_client import LLMConfig, load_prompt

    llm = params["llm"]
    return LLMSpatialClassifier(
        LLMConfig.from_params(llm["endpoint"]),
        filter_prompt=load_prompt(llm["filter_prompt"]),
        tagger_prompt=load_prompt(llm["tagger_prompt"]),
        cache_path=llm.get("cache_path"))


def filter_spatial_questions(
    qa_candidates: list[dict[str, Any]], params: dict[str, Any]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Keep spatial questions and tag them; return the benchmark and every candidate's decision.

    ``params.spatial_filter``: ``rules`` (offline), ``llm`` or ``keep_all`` (the candidates are
    already filtered, as CT-SpatialVQA's are). ``params.categories``: ``rules``, ``llm`` or
    ``given`` (keep the candidates' own tags, tagging untagged items by rules). ``params.llm``
    names the endpoint and the two prompts (conf/base/curation_prompts).
    """
    from ct_spatial_bench.curation.filtering import filter_and_tag

    spatial_filter = params.get("spatial_filter", "rules")
    category_source = params.get("categories", "rules")
    llm = _llm_classifier(params) if "llm" in (spatial_filter, category_source) else None
    kept, decisions = filter_and_tag(qa_candidates, spatial_filter, category_source, llm)
    if not kept:
        raise ValueError("qa_filtering kept no questions: check the candidates and the filter")
    return kept, decisions
