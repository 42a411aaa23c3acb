"""Keep the QA items that need spatial reasoning and tag their categories, recording who decided.

Filters: ``rules`` (the offline classifier), ``llm`` (an :class:`LLMSpatialClassifier`) or
``keep_all`` (candidates already filtered, as CT-SpatialVQA's are). Taggers: ``rules``, ``llm`` or
``given`` (the candidates' own tags; an untagged item falls back to the rules). Every kept item's
``meta`` names the filter and tagger and their versions (``rules-v1`` or the prompt version);
every candidate gets a decision row. The LLM filter asks about every candidate at once, then the
LLM tagger about every kept one (``LLMSpatialClassifier``), each step with its progress bar. An
LLM failure on an item is recorded as an error for that item (dropped by an LLM filter, left
untagged by an LLM tagger), never guessed, and asked again by the next run.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from ct_spatial_bench.records import QAItem, index_by, qa_item
from ct_spatial_bench.spatial.classifier import classify

logger = logging.getLogger(__name__)

SPATIAL_FILTERS = ("rules", "llm", "keep_all")
CATEGORY_SOURCES = ("rules", "llm", "given")


def _decide_filter(rules, spatial_filter: str, reply, llm, qa_id: str = ""
                   ) -> tuple[bool, dict[str, Any]]:
    if spatial_filter == "keep_all":
        return True, {"spatial_filter": "keep_all", "spatial_filter_version": None}
    if spatial_filter == "rules":
        return rules.is_spatial, {"spatial_filter": rules.classifier,
                                  "spatial_filter_version": rules.version}
    info = {"spatial_filter": llm.name, "spatial_filter_version": llm.filter_prompt.version,
            "llm_is_spatial": reply.value}
    details = getattr(llm, "filter_details", {}).get(qa_id)
    if details:  # upstream's filter: both of its booleans
        info.update(details)
    if reply.error:
        info["spatial_filter_error"] = reply.error
    return bool(reply.value), info


def _decide_categories(item: QAItem, rules, category_source: str, reply, llm
                       ) -> tuple[list[str], dict]:
    given = list(item.categories or [])
    if category_source == "given" and given:
        tagger = (item.meta or {}).get("categories_from") or item.source or "given"
        return given, {"categories_from": tagger, "categories_version": None}
    if category_source == "llm":
        info = {"categories_from": llm.name, "categories_version": llm.tagger_prompt.version}
        if reply.error:
            info["categories_error"] = reply.error
        return list(reply.value or []), info
    return list(rules.categories), {"categories_from": rules.classifier,
                                    "categories_version": rules.version}


def filter_and_tag(
    items: list[Mapping[str, Any]], spatial_filter: str = "rules", category_source: str = "rules",
    llm: Any = None, progress: bool = True,
) -> tuple[list[QAItem], list[dict[str, Any]]]:
    """(kept ``QAItem``s with categories and provenance in ``meta``, one decision row per
    item)."""
    from tqdm.auto import tqdm

    if spatial_filter not in SPATIAL_FILTERS or category_source not in CATEGORY_SOURCES:
        raise ValueError(f"qa_filtering: spatial_filter must be one of {SPATIAL_FILTERS} and "
                         f"categories one of {CATEGORY_SOURCES}; got {spatial_filter!r}, "
                         f"{category_source!r}")
    if "llm" in (spatial_filter, category_source) and llm is None:
        raise ValueError("qa_filtering: the llm filter or tagger needs an LLM classifier")
    items = [qa_item(item, "QA candidates") for item in items]
    index_by(items)  # replies are matched to items by qa_id: a duplicate is an error
    rules = {item.qa_id: classify(item.question, item.answer)
             for item in tqdm(items, desc="qa_filtering rules", leave=False,
                              disable=None if progress else True)}
    filter_replies = llm.is_spatial(items) if spatial_filter == "llm" else {}
    decided = [(item, *_decide_filter(rules[item.qa_id], spatial_filter,
                                      filter_replies.get(item.qa_id), llm, item.qa_id))
               for item in items]
    kept_items = [item for item, keep, _ in decided if keep]
    tag_replies = llm.categories(kept_items) if category_source == "llm" else {}
    kept, decisions = [], []
    for item, keep, filter_info in decided:
        rule = rules[item.qa_id]
        decision = {
            "qa_id": item.qa_id, "kept": keep, "rule_is_spatial": rule.is_spatial,
            "rule_categories": list(rule.categories),
            "given_categories": list(item.categories or []),
            "matched_terms": {k: sorted(v) for k, v in rule.matched_terms.items()},
            **filter_info,
        }
        if keep:
            categories, tag_info = _decide_categories(item, rule, category_source,
                                                      tag_replies.get(item.qa_id), llm)
            decision.update(tag_info, categories=categories)
            meta = {**(item.meta or {}), **filter_info, **tag_info,
                    "given_categories": list(item.categories or [])}
            kept.append(replace(item, categories=categories, meta=meta))
        decisions.append(decision)
    failed = sum("spatial_filter_error" in d or "categories_error" in d for d in decisions)
    logger.info("qa_filtering: kept %d of %d candidates (%s filter, %s categories; %d LLM "
                "failures)", len(kept), len(items), spatial_filter, category_source, failed)
    return kept, decisions


def filter_as_configured(
    candidates: list[Mapping[str, Any]], settings: Mapping[str, Any],
    api_keys: Mapping[str, str | None] | None = None,
) -> tuple[list[QAItem], list[dict[str, Any]]]:
    """``filter_and_tag`` as the ``qa_filtering`` settings say; the kept items and every
    candidate's decision.

    ``settings.spatial_filter``: ``rules``, ``llm`` or ``keep_all``; ``settings.categories``:
    ``rules``, ``llm`` or ``given``. ``settings.llm`` names the provider (as for a judge) and the
    two prompts (conf/base/curation_prompts); an LLM whose key is absent in ``api_keys`` falls
    back to the rules with a warning naming it. Keeping nothing is an error.
    """
    spatial_filter = settings.get("spatial_filter", "rules")
    category_source = settings.get("categories", "rules")
    llm = None
    if "llm" in (spatial_filter, category_source):
        llm = _llm_classifier(settings["llm"], api_keys)
        if llm is None:
            spatial_filter = "rules" if spatial_filter == "llm" else spatial_filter
            category_source = "rules" if category_source == "llm" else category_source
    kept, decisions = filter_and_tag(candidates, spatial_filter, category_source, llm)
    if not kept:
        raise ValueError("qa_filtering kept no questions: check the candidates and the filter")
    return kept, decisions


def _llm_classifier(settings: Mapping[str, Any], api_keys: Mapping[str, str | None] | None):
    from ct_spatial_bench.curation.llm_classifier import LLMSpatialClassifier
    from ct_spatial_bench.curation.llm_client import curation_llm, load_prompt

    llm = curation_llm(settings, api_keys, "qa_filtering", "the rules classifier",
                       other_keys=("filter_prompt", "tagger_prompt", "cache_path", "form"))
    if llm is None:
        return None
    return LLMSpatialClassifier(llm, filter_prompt=load_prompt(settings["filter_prompt"]),
                                tagger_prompt=load_prompt(settings["tagger_prompt"]),
                                cache_path=settings.get("cache_path"),
                                form=settings.get("form", "project"))
