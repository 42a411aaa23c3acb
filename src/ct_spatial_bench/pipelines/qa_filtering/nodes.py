"""Nodes that keep the questions needing spatial reasoning and tag their spatial categories."""

from __future__ import annotations

import logging
from typing import Any

logger = logging.getLogger(__name__)


def filter_spatial_questions(
    qa_candidates: list[dict[str, Any]], params: dict[str, Any]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Keep spatial questions and tag them; return the benchmark and every candidate's decision.

    ``params.spatial_filter``: ``rules`` (the offline classifier) or ``keep_all`` (the candidates
    are already filtered, as CT-SpatialVQA's are). ``params.categories``: ``rules`` (tag with the
    offline tagger) or ``given`` (keep the candidates' own tags, tagging only untagged items).
    Each kept item records in ``meta`` which classifier decided and its version.
    """
    from ct_spatial_bench.spatial.classifier import classify

    spatial_filter = params.get("spatial_filter", "rules")
    category_source = params.get("categories", "rules")
    if spatial_filter not in ("rules", "keep_all") or category_source not in ("rules", "given"):
        raise ValueError(f"qa_filtering: unsupported parameters {params}")
    kept, decisions = [], []
    for item in qa_candidates:
        verdict = classify(item["question"], item["answer"])
        keep = verdict.is_spatial or spatial_filter == "keep_all"
        tagged_by = verdict.classifier
        categories = list(verdict.categories)
        if category_source == "given" and item.get("categories"):
            categories, tagged_by = list(item["categories"]), item.get("source") or "given"
        decisions.append({
            "qa_id": item["qa_id"],
            "kept": keep,
            "rule_is_spatial": verdict.is_spatial,
            "rule_categories": list(verdict.categories),
            "given_categories": list(item.get("categories") or []),
            "matched_terms": {k: sorted(v) for k, v in verdict.matched_terms.items()},
        })
        if not keep:
            continue
        meta = dict(item.get("meta") or {})
        meta.update({
            "spatial_filter": spatial_filter if spatial_filter == "keep_all" else verdict.classifier,
            "spatial_filter_version": verdict.version,
            "categories_from": tagged_by,
            "given_categories": list(item.get("categories") or []),
        })
        kept.append({**item, "categories": categories, "meta": meta})
    logger.info("qa_filtering: kept %d of %d candidates", len(kept), len(qa_candidates))
    if not kept:
        raise ValueError("qa_filtering kept no questions: check the candidates and the filter")
    return kept, decisions
