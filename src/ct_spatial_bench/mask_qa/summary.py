"""Per-model figures of the mask track: accuracy per family and category with volume-clustered
intervals, "both right" on paired questions, and the flip-consistency of the mirrored twins.

Questions about one volume are not independent (one misread orientation fails them together),
so intervals resample volumes, not items (``statistics``, the jury track's bootstrap).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np

CHANCE_CLOSED = 0.5          # a fair coin on a Yes/No question
CHANCE_BOTH_RIGHT = 0.25     # ... on both questions of a pair


def _row(model: str, kind: str, group: str, scored: list[dict[str, Any]], n_boot: int,
         seed: int, chance: float | None) -> dict[str, Any]:
    from ct_spatial_bench.statistics import cluster_bootstrap_ci

    answered = [r for r in scored if r["outcome"] != "failed"]
    values = [r["score"] for r in answered]
    mean = float(np.mean(values)) if values else float("nan")
    low, high = cluster_bootstrap_ci(values, [r["case_id"] for r in answered], n_boot, seed)
    count = defaultdict(int)
    for r in scored:
        count[r["outcome"]] += 1
    return {"model": model, "kind": kind, "group": group, "n": len(answered),
            "accuracy": round(mean, 4), "ci_low": round(low, 4), "ci_high": round(high, 4),
            "chance": chance, "volumes": len({r["case_id"] for r in answered}),
            **{k: count[k] for k in ("correct", "wrong", "hedged", "unreadable", "failed")}}


def _pairs(rows: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    """One row per complete pair (both members answered): score 1 when both are correct."""
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        if r[key] and r["outcome"] != "failed":
            groups[r[key]].append(r)
    return [{"case_id": g[0]["case_id"], "score": float(all(r["outcome"] == "correct" for r in g)),
             "outcome": "correct" if all(r["outcome"] == "correct" for r in g) else "wrong"}
            for g in groups.values() if len(g) == 2]


def _flips(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Original + mirrored twin: consistent when both are read and the reading changed."""
    by_id = {r["qa_id"]: r for r in rows}
    out = []
    for twin in rows:
        original = by_id.get(twin.get("twin_of") or "")
        if original is None or "failed" in (twin["outcome"], original["outcome"]):
            continue
        readable = all(r["read"] in ("Yes", "No") for r in (twin, original))
        flipped = readable and twin["read"] != original["read"]
        out.append({"case_id": twin["case_id"], "score": float(flipped),
                    "outcome": "correct" if flipped else "wrong"})
    return out


def summarise(scored: list[dict[str, Any]], n_boot: int = 1000, seed: int = 0
              ) -> list[dict[str, Any]]:
    """Rows of (model, kind, group): kind is overall, family, category, paired (per item and both
    right, closed non-mirrored items), or flip (mirrored twins)."""
    out: list[dict[str, Any]] = []
    by_model: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in scored:
        by_model[r["model"]].append(r)
    for model, rows in sorted(by_model.items()):
        plain = [r for r in rows if not r["mirrored"]]
        out.append(_row(model, "overall", "all", plain, n_boot, seed, None))
        for family in sorted({r["family"] for r in plain}):
            members = [r for r in plain if r["family"] == family]
            chance = CHANCE_CLOSED if members[0]["answer_type"] == "closed" else None
            out.append(_row(model, "family", family, members, n_boot, seed, chance))
        for category in sorted({c for r in plain for c in r["categories"]}):
            out.append(_row(model, "category", category,
                            [r for r in plain if category in r["categories"]], n_boot, seed, None))
        paired = [r for r in plain if r["pair_id"]]
        out.append(_row(model, "paired", "per item", paired, n_boot, seed, CHANCE_CLOSED))
        out.append(_row(model, "paired", "both right", _pairs(paired, "pair_id"), n_boot, seed,
                        CHANCE_BOTH_RIGHT))
        flips = _flips(rows)
        if flips:
            out.append(_row(model, "flip", "answer flips with the mirror", flips, n_boot, seed,
                            None))
    return out
