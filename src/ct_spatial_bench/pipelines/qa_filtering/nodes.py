"""Nodes that keep the questions needing spatial reasoning and tag their spatial categories."""

from __future__ import annotations

import logging
from typing import Any

logger = logging.getLogger(__name__)


def _llm_classifier(settings: dict[str, Any], api_keys: dict[str, str | None] | None):
    from ct_spatial_bench.curation.llm_classifier import LLMSpatialClassifier
    from ct_spatial_bench.curation.llm_client import curation_llm, load_prompt

    llm = curation_llm(settings, api_keys, "qa_filtering", "the rules classifier",
                       other_keys=("filter_prompt", "tagger_prompt", "cache_path"))
    if llm is None:
        return None
    return LLMSpatialClassifier(llm, filter_prompt=load_prompt(settings["filter_prompt"]),
                                tagger_prompt=load_prompt(settings["tagger_prompt"]),
                                cache_path=settings.get("cache_path"))


def filter_spatial_questions(
    qa_candidates: list[dict[str, Any]], params: dict[str, Any],
    api_keys: dict[str, str | None] | None = None,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Keep spatial questions and tag them; return the benchmark and every candidate's decision.

    ``params.spatial_filter``: ``rules`` (offline), ``llm`` or ``keep_all`` (the candidates are
    already filtered, as CT-SpatialVQA's are). ``params.categories``: ``rules``, ``llm`` or
    ``given`` (keep the candidates' own tags, tagging untagged items by rules). ``params.llm``
    names the provider (as for a judge) and the two prompts (conf/base/curation_prompts); an LLM
    whose key is absent in ``api_keys`` falls back to the rules with a warning naming it.
    """
    from ct_spatial_bench.curation.filtering import filter_and_tag

    spatial_filter = params.get("spatial_filter", "rules")
    category_source = params.get("categories", "rules")
    llm = None
    if "llm" in (spatial_filter, category_source):
        llm = _llm_classifier(params["llm"], api_keys)
        if llm is None:
            spatial_filter = "rules" if spatial_filter == "llm" else spatial_filter
            category_source = "rules" if category_source == "llm" else category_source
    kept, decisions = filter_and_tag(qa_candidates, spatial_filter, category_source, llm)
    if not kept:
        raise ValueError("qa_filtering kept no questions: check the candidates and the filter")
    return kept, decisions


def measure_tagger_agreement(decisions: list[dict[str, Any]]) -> Any:
    """Per category, the rule tagger's precision, recall and F1 against the categories the kept
    items carry (the generator's exact ones on the sanity split, upstream's Gemini tags on the
    full split), with ``categories_from`` naming whose they are."""
    import pandas as pd

    from ct_spatial_bench.curation.agreement import binary_agreement
    from ct_spatial_bench.spatial.categories import CATEGORIES

    kept = [d for d in decisions if d.get("kept")]
    sources = ", ".join(sorted({str(d.get("categories_from")) for d in kept}))
    rows = []
    for category in CATEGORIES:
        truth = [category in (d.get("categories") or []) for d in kept]
        tagged = [category in d["rule_categories"] for d in kept]
        stats = binary_agreement(truth, tagged)
        rows.append({"category": category, "n_items": len(kept), "n_true": sum(truth),
                     "n_tagged": sum(tagged), **{k: stats[k] for k in (
                         "precision", "recall", "f1", "kappa")}, "categories_from": sources})
    return pd.DataFrame(rows)
