"""CT-SpatialVQA's benchmark file with its categories attached by key, never by position.

The QA file (``spatial_qa_filtered_full_nifti.jsonl``) has no categories; the categories file
(``spatial_qa_filtered_full_with_categories.json``, ``{case_id: {qa_pairs: [{question, answer,
category}]}}``) has them. Each QA item gets the categories of the entry with the same case,
question and answer; should a key occur twice, its occurrences pair up in file order.
"""

from __future__ import annotations

import json
import logging
import os
from collections import defaultdict
from dataclasses import replace
from typing import Any

from ct_spatial_bench.records import QAItem
from ct_spatial_bench.spatial.categories import canonical_category

logger = logging.getLogger(__name__)

UPSTREAM_SOURCE = "ct_spatialvqa"
UPSTREAM_TAGGER = "gemini-2.5-flash (CT-SpatialVQA)"


def categories_by_key(data: dict[str, Any], source: str | os.PathLike = "categories file"
                      ) -> dict[tuple[str, str, str], list[list[str]]]:
    """``(case, question, answer) -> [categories of each occurrence]``, names made canonical."""
    out: dict[tuple[str, str, str], list[list[str]]] = defaultdict(list)
    for case_id, entry in data.items():
        for index, pair in enumerate(entry.get("qa_pairs", [])):
            try:
                names = pair.get("category") or []
                cats = [canonical_category(name) for name in names]
            except ValueError as exc:
                raise ValueError(f"{source}: {case_id} pair {index}: {exc}") from exc
            out[(case_id, pair["question"], pair["answer"])].append(cats)
    return out


def attach_categories(items: list[QAItem], data: dict[str, Any],
                      source: str | os.PathLike = "categories file") -> list[QAItem]:
    """``items`` (as ``QADataset`` loads them) with upstream categories and provenance;
    unmatched items are logged and kept."""
    pending = categories_by_key(data, source)
    out, unmatched = [], []
    for item in items:
        queue = pending.get((item.case_id, item.question, item.answer))
        meta = dict(item.meta or {})
        if queue:
            categories = queue.pop(0)
            meta["categories_from"] = UPSTREAM_TAGGER
        else:
            categories = list(item.categories or [])
            unmatched.append(item.qa_id)
        out.append(replace(item, categories=categories, source=item.source or UPSTREAM_SOURCE,
                           meta=meta))
    if unmatched:
        logger.warning("%s: no categories for %d QA items (first: %s)",
                       source, len(unmatched), ", ".join(unmatched[:5]))
    return out


def load_categories_file(path: str | os.PathLike) -> dict[str, Any]:
    with open(path, encoding="utf-8") as handle:
        data = json.load(handle)
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected {{case_id: {{qa_pairs: [...]}}}}")
    return data
