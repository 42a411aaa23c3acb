"""Nodes that keep the questions needing spatial reasoning and tag their spatial categories."""

from __future__ import annotations

from typing import Any

from ct_spatial_bench.records import QAItem


def filter_spatial_questions(
    qa_candidates: list[QAItem], params: dict[str, Any],
    api_keys: dict[str, str | None] | None = None,
) -> tuple[list[QAItem], list[dict[str, Any]]]:
    """Keep spatial questions and tag them; return the benchmark and every candidate's decision.

    ``params``: the filter (``spatial_filter``: rules, llm, keep_all), the tagger
    (``categories``: rules, llm, given) and their LLM (``curation.filtering.filter_as_configured``).
    """
    from ct_spatial_bench.curation.filtering import filter_as_configured

    return filter_as_configured(qa_candidates, params, api_keys)


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
