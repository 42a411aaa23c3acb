"""Thin glue: upstream CT-SpatialVQA's public files, checked, where ``reproduce`` reads them."""

from __future__ import annotations

import logging
from typing import Any

logger = logging.getLogger(__name__)


def fetch_upstream(params: dict[str, Any]) -> list[dict[str, Any]]:
    """Download what is missing of the pinned table (reproduction/upstream_files.yml)."""
    from ct_spatial_bench.reproduction.fetch import fetch_upstream_files, load_table

    table = load_table(params.get("table"))
    rows = fetch_upstream_files(params["base_url"], params["target_dir"], table,
                                float(params.get("timeout_s", 60)))
    downloaded = sum(r["status"] == "downloaded" for r in rows)
    logger.info("fetch_upstream: %d file(s) downloaded, %d already there, in %s (commit %s)",
                downloaded, len(rows) - downloaded, params["target_dir"], table["commit"][:7])
    return rows
