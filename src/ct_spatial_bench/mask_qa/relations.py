"""The relational questions of one volume: order on an axis, distance from the midline, the
carina's level, adjacency, size. Each is asked only where ``rules.py`` allows it (``clinical``),
or, for a reader that must commit to every answer (the geometry baseline), by the centroid
convention alone."""

from __future__ import annotations

from collections.abc import Iterator

from ..records import QAItem
from .measure import Measured, VolumeMeasures
from .rules import nearest_midline_mm, separation_mm, spans_scan

AXES = {"longitudinal_order": 2, "depth_order": 1}


def orderings(case, vol: VolumeMeasures, a: Measured, b: Measured, m: dict[str, float], skips,
              pair, clinical: bool) -> Iterator[QAItem]:
    """Above/below and anterior/posterior of ``a`` against ``b``, then medial/lateral."""
    cid = case["case_id"]
    for family, axis in AXES.items():
        diff = float(a.centroid[axis] - b.centroid[axis])
        gap = separation_mm(a, b, axis)
        meas = {"quantity": f"gap between the extents along {'zy'[axis == 1]} (mm)",
                "separation_mm": gap, "centroid_difference_mm": diff,
                "threshold_mm": m["extent_gap_mm"]}
        if clinical:
            spanning = [s.key for s in (a, b) if spans_scan(vol, s, axis, m["span_share"])]
            if spanning:
                skips.add(cid, family, "spans the scan", a.key, b.key, spanning=",".join(spanning))
                continue
            if gap == 0.0 or abs(gap) < m["extent_gap_mm"]:  # overlapping: never apart
                skips.add(cid, family, "extents not apart", a.key, b.key, **meas)
                continue
            truth = gap > 0
        else:
            truth = diff > 0
        yield from pair(case, family, a, b.key, b.structure.noun, truth, meas)
    if {"midline", "bilateral"} & {a.structure.side, b.structure.side}:
        return  # a structure on (or across) the midline has no distance from it to compare
    da, db = (abs(float(s.centroid[0]) - vol.midline_x) for s in (a, b))
    na, nb = nearest_midline_mm(vol, a), nearest_midline_mm(vol, b)
    meas = {"quantity": "centroid distance from the midline (mm)", "subject_mm": da,
            "reference_mm": db, "difference_mm": da - db, "threshold_mm": m["order_mm"],
            "subject_nearest_mm": na, "reference_nearest_mm": nb}
    if clinical and abs(da - db) < m["order_mm"]:
        skips.add(cid, "medial_lateral_order", "margin", a.key, b.key, **meas)
        return
    if clinical and ((na - nb) * (da - db) <= 0 or abs(na - nb) < m["order_mm"]):
        skips.add(cid, "medial_lateral_order", "centroid and nearest point disagree", a.key,
                  b.key, **meas)
        return
    yield from pair(case, "medial_lateral_order", a, b.key, b.structure.noun, da < db, meas)


def carina_level(case, vol: VolumeMeasures, a: Measured, m: dict[str, float], skips, pair,
                 clinical: bool) -> list[QAItem]:
    """Is ``a`` above the level of the carina: wholly above or below it by the gap."""
    low, high = float(a.world[:, 2].min()), float(a.world[:, 2].max())
    diff = float(a.centroid[2] - vol.carina_z)
    meas = {"quantity": "extent above (+) or below (-) the carina's level (mm)",
            "above_mm": low - vol.carina_z, "below_mm": vol.carina_z - high,
            "centroid_difference_mm": diff, "carina_z_mm": vol.carina_z,
            "threshold_mm": m["extent_gap_mm"]}
    if not clinical:
        truth = diff > 0
    elif low - vol.carina_z >= m["extent_gap_mm"]:
        truth = True
    elif vol.carina_z - high >= m["extent_gap_mm"]:
        truth = False
    else:
        skips.add(case["case_id"], "longitudinal_order", "extents not apart", a.key, "carina",
                  **meas)
        return []
    return pair(case, "longitudinal_order", a, "carina", "level of the carina", truth, meas)


def adjacency(case, vol: VolumeMeasures, a: Measured, b: Measured, m: dict[str, float], skips,
              pair) -> list[QAItem]:
    k, margin = m["adjacency_k_mm"], m["adjacency_mm"]
    gap = vol.gap_mm(a, b, reach_mm=k + margin + 1.0)
    meas = {"quantity": "smallest gap between the structures (mm)", "gap_mm": gap, "k_mm": k,
            "margin_mm": margin}
    if abs(gap - k) < margin:
        skips.add(case["case_id"], "adjacency", "margin", a.key, b.key, **meas)
        return []
    if gap == float("inf"):
        meas["gap_mm"] = f"> {k + margin + 1.0:g}"
    return pair(case, "adjacency", a, b.key, b.structure.noun, gap < k, meas, k=k)


def size_comparison(case, a: Measured, b: Measured, m: dict[str, float], skips,
                    pair) -> list[QAItem]:
    """Larger/smaller only at a volume ratio of at least ``size_ratio_min`` either way."""
    ratio = a.volume_ml / b.volume_ml
    meas = {"quantity": "volume (mL)", "subject_ml": a.volume_ml, "reference_ml": b.volume_ml,
            "ratio": ratio, "threshold": m["size_ratio_min"]}
    if max(ratio, 1.0 / ratio) < m["size_ratio_min"] or ratio == 1.0:
        skips.add(case["case_id"], "size_comparison", "ratio under the threshold", a.key, b.key,
                  **meas)
        return []
    return pair(case, "size_comparison", a, b.key, b.structure.noun, ratio > 1.0, meas)
