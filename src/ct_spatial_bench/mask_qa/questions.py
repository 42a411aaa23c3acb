"""Measurements of one volume -> spatial questions with computed answers.

Closed questions come in pairs of opposite polarity ("Is A above B?" / "Is A below B?"), answered
Yes/No; a relation whose margin is under its threshold is not asked but counted in ``skips``.
Numeric questions (largest diameter, lobes spanned) are scored by relative error. ``balance``
then keeps, for every closed question text, as many pairs answered Yes as No across the split,
so that no answer can be read off the wording (a prior that answers from the text scores exactly
chance). ``mirrored_twins`` asks each laterality question again about the left-right mirrored
volume, answer swapped: the flip probe of the mask track.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import replace
from typing import Any

from ..records import QAItem
from ..spatial.categories import (
    ADJACENCY, CENTRICITY, DEPTH, EXTENT, LATERALITY, LONGITUDINAL,
)
from .measure import Measured, VolumeMeasures

SOURCE = "mask_qa"
CLOSED, NUMBER = "closed", "number"

# family -> (categories, the two poles of its closed questions as scoring.POLES keys)
FAMILIES: dict[str, tuple[tuple[str, ...], tuple[str, str] | None]] = {
    "laterality": ((LATERALITY,), ("right", "left")),
    "bilaterality": ((LATERALITY,), ("bilateral", "unilateral")),
    "containment": ((ADJACENCY,), ("inside", "outside")),
    "longitudinal_order": ((LONGITUDINAL,), ("above", "below")),
    "depth_order": ((DEPTH,), ("anterior", "posterior")),
    "medial_lateral_order": ((CENTRICITY,), ("medial", "lateral")),
    "adjacency": ((ADJACENCY,), ("near", "far")),
    "lobes_spanned": ((EXTENT, ADJACENCY), None),
    "largest_diameter": ((EXTENT,), None),
    "size_comparison": ((EXTENT,), ("larger", "smaller")),  # + laterality for a bilateral pair
}

FORMS = {
    "laterality": ("Is the {a} on the patient's right side?",
                   "Is the {a} on the patient's left side?"),
    "bilaterality": ("Is the {a} on both sides?", "Is the {a} on one side only?"),
    "containment": ("Is the {a} in the {b}?", "Is the {a} outside the {b}?"),
    "longitudinal_order": ("Is the {a} above the {b}?", "Is the {a} below the {b}?"),
    "depth_order": ("Is the {a} anterior to the {b}?", "Is the {a} posterior to the {b}?"),
    "medial_lateral_order": ("Is the {a} closer to the midline than the {b}?",
                             "Is the {a} farther from the midline than the {b}?"),
    "adjacency": ("Is the {a} within {k:g} mm of the {b}?",
                  "Is the {a} more than {k:g} mm away from the {b}?"),
    "size_comparison": ("Is the {a} larger than the {b}?", "Is the {a} smaller than the {b}?"),
    "lobes_spanned": ("How many lung lobes does the {a} involve?",),
    "largest_diameter": ("What is the largest diameter of the {a}, in millimetres?",),
}

DEFAULT_MARGINS = {
    "side_share": 0.95,        # laterality: >= 95% of the voxels on one side of the midline
    "lobe_share": 0.90,        # containment: >= 90% in the lobe (yes) or <= 10% (no)
    "order_mm": 5.0,           # medial-lateral: centroid and nearest-point distances from the
                               # midline each >= 5 mm apart, in the same order
    "extent_gap_mm": 5.0,      # above/below, anterior/posterior: extents at least 5 mm apart
    "span_share": 0.9,         # a structure over >= 90% of the scan on an axis: no order on it
    "adjacency_k_mm": 5.0,     # adjacency: within k mm
    "adjacency_mm": 2.0,       # ... asked only when the gap is >= 2 mm from k
    "spanned_share": 0.15,     # a lobe holding >= 15% of a finding is involved (as templates do)
    "spanned_mm": 0.05,        # ... asked only when no lobe's share is within 5 points of it
    "size_ratio_min": 1.5,     # larger/smaller: one volume at least 1.5 times the other
}


class Skips:
    """Relations not asked, each with its reason and measurement (margin, absent, ...)."""

    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []

    def add(self, case_id: str, family: str, reason: str, subject: str, reference: str = "",
            **measurement: Any) -> None:
        self.rows.append({"case_id": case_id, "family": family, "reason": reason,
                          "subject": subject, "reference": reference,
                          "measurement": _rounded(measurement)})


def _rounded(values: dict[str, Any]) -> dict[str, Any]:
    return {k: round(float(v), 3) if isinstance(v, float) else v for k, v in values.items()}


def family_of(item: QAItem) -> str:
    """A mask question's family (a key of ``FAMILIES``): a field of the mask track's own, kept in
    the item's ``extra`` beside its ``measurement``."""
    return item.extra["family"]


def _item(row: dict[str, Any]) -> QAItem:
    """A question row as a ``QAItem`` that writes the row back in its own key order (the mask
    track's files put ``answer_type``, ``family`` and ``measurement`` among the QA fields)."""
    return QAItem.from_dict(row, "mask question")


def _pair(case: dict[str, str], family: str, a: Measured, b_key: str, b_noun: str,
          positive_true: bool, measurement: dict[str, Any], **fmt: Any) -> list[QAItem]:
    """The two items of one closed relation, opposite polarity, answers Yes/No."""
    categories, poles = FAMILIES[family]
    pair_id = f"{case['case_id']}::mask::{family}::{a.key}::{b_key or '-'}"
    items = []
    for polarity, form, truth in (("positive", FORMS[family][0], positive_true),
                                  ("negative", FORMS[family][1], not positive_true)):
        items.append(_item({
            "qa_id": f"{pair_id}::{polarity}", "case_id": case["case_id"],
            "image_path": case["image_path"],
            "question": form.format(a=a.structure.noun, b=b_noun, **fmt),
            "answer": "Yes" if truth else "No", "answer_type": CLOSED,
            "categories": list(categories), "family": family,
            "measurement": _rounded(measurement), "source": SOURCE,
            "meta": {"pair_id": pair_id, "polarity": polarity, "subject": a.key,
                     "reference": b_key, "reference_noun": b_noun,
                     "asked_pole": poles[0 if polarity == "positive" else 1],
                     "other_pole": poles[1 if polarity == "positive" else 0],
                     "mirrored": False},
        }))
    return items


def _number(case, family, a: Measured, value: float, unit: str, measurement) -> QAItem:
    categories, _ = FAMILIES[family]
    qa_id = f"{case['case_id']}::mask::{family}::{a.key}"
    return _item({"qa_id": qa_id, "case_id": case["case_id"], "image_path": case["image_path"],
                  "question": FORMS[family][0].format(a=a.structure.noun),
                  "answer": f"{value:g}", "answer_type": NUMBER, "categories": list(categories),
                  "family": family, "measurement": _rounded(measurement), "source": SOURCE,
                  "meta": {"pair_id": None, "subject": a.key, "reference": "", "unit": unit,
                           "mirrored": False}})


def volume_questions(case: dict[str, str], vol: VolumeMeasures, margins: dict[str, float],
                     skips: Skips, every_lobe: bool = False,
                     clinical: bool = True) -> list[QAItem]:
    """Every question about one volume that the rules allow (rules.py) and whose answer clears
    its margin. Containment asks the lobes that hold a finding and one that does not
    (``every_lobe``: all that do not). ``clinical`` False: every relation answered by the
    centroid convention (a reader that commits to every answer, as the geometry baseline)."""
    from .relations import adjacency, carina_level, orderings, size_comparison
    from .rules import split_bilateral

    m = {**DEFAULT_MARGINS, **(margins or {})}
    cid = case["case_id"]
    split = split_bilateral(vol)
    present = vol.present
    findings = [s for s in present.values() if s.structure.kind == "finding"]
    organs = [s for s in present.values() if s.structure.kind == "organ"]
    items: list[QAItem] = []

    for key in split:
        skips.add(cid, "laterality", "bilateral: asked per side", key)
    for a in [*vol.bilateral.values(), *findings]:
        if a.structure.collection and a.structure.side == "unpaired":
            meas = {"quantity": "pieces on each side of the midline",
                    "bilateral": a.key in split}
            items += _pair(case, "bilaterality", a, "", "", a.key in split, meas)

    for a in [s for s in present.values() if s.structure.side == "unpaired"]:
        share = vol.right_share(a)
        meas = {"quantity": "share of voxels right of the midline", "right_share": share,
                "midline_x_mm": vol.midline_x, "threshold": m["side_share"]}
        if max(share, 1 - share) < m["side_share"]:
            skips.add(cid, "laterality", "margin", a.key, **meas)
            continue
        items += _pair(case, "laterality", a, "", "", share >= m["side_share"], meas)

    for a in findings:
        if a.structure.collection and clinical:
            skips.add(cid, "lobes_spanned", "a fluid collection", a.key)
            skips.add(cid, "largest_diameter", "a fluid collection", a.key)
        shares = vol.lobe_shares(a)
        if not shares or vol.lobe_coverage(a) < 0.5:
            skips.add(cid, "containment", "not in the lungs", a.key)
            continue
        inside = [k for k, v in shares.items() if v >= m["lobe_share"]]
        outside = [k for k, v in shares.items() if v <= 1 - m["lobe_share"]]
        for k, v in shares.items():
            if k not in inside and k not in outside:
                skips.add(cid, "containment", "margin", a.key, k, lobe_share=v)
        if outside and not every_lobe:  # one lobe not holding it, drawn by case (not by answer)
            outside = [sorted(outside, key=lambda k: _digest(cid, a.key, k))[0]]
        for k in inside + outside:
            meas = {"quantity": "share of the finding's voxels in the lobe",
                    "lobe_share": shares[k], "threshold": m["lobe_share"]}
            side = present[k].structure.side
            items += [replace(item, meta={**item.meta, "reference_side": side})
                      for item in _pair(case, "containment", a, k, present[k].structure.noun,
                                        k in inside, meas)]
        if a.structure.collection and clinical:
            continue
        items += _lobes_spanned(case, a, shares, m, skips)
        diameter = vol.largest_diameter_mm(a)
        items.append(_number(case, "largest_diameter", a, round(diameter, 1), "mm",
                             {"quantity": "largest edge-to-edge extent (mm)",
                              "diameter_mm": diameter, "volume_ml": a.volume_ml}))

    # Orderings between findings and organs (a lobe is never a reference, see rules.py; the
    # geometry baseline also answers a finding against the lobes it is not in); adjacency
    # wherever a finding is involved.
    lobes = [s for s in present.values() if s.structure.kind == "lobe"]
    subjects = findings + organs
    for i, a in enumerate(subjects):
        others = subjects[i + 1:]
        if a.structure.kind == "finding" and not clinical:
            shares = vol.lobe_shares(a)
            others = others + [b for b in lobes if shares.get(b.key, 0.0) <= 1 - m["lobe_share"]]
        for b in others:
            items += orderings(case, vol, a, b, m, skips, _pair, clinical)
            if a.structure.kind == "finding" and b.structure.kind != "lobe":
                items += adjacency(case, vol, a, b, m, skips, _pair)
        if vol.carina_z is not None and a.key != vol.table.carina:
            items += carina_level(case, vol, a, m, skips, _pair, clinical)

    compared = [(a, present[a.structure.pair]) for a in present.values()
                if a.structure.pair in present and a.key < a.structure.pair]
    compared += [(a, b) for i, a in enumerate(findings) for b in findings[i + 1:]]
    compared += [(a, b) for i, a in enumerate(lobes) for b in lobes[i + 1:]
                 if a.structure.side == b.structure.side]  # lobes of one lung
    for a, b in compared:
        pair = size_comparison(case, a, b, m, skips, _pair)
        if a.structure.pair == b.key:  # the two sides of a bilateral pair: a symmetry question
            pair = [replace(item, categories=[LATERALITY, *item.categories]) for item in pair]
        items += pair
    return items


def _lobes_spanned(case, a, shares, m, skips) -> list[QAItem]:
    near = [k for k, v in shares.items() if abs(v - m["spanned_share"]) < m["spanned_mm"]]
    meas = {"quantity": "lobes holding >= share of the finding", "threshold": m["spanned_share"],
            "lobe_shares": {k: round(v, 3) for k, v in shares.items()}}
    if near:
        skips.add(case["case_id"], "lobes_spanned", "margin", a.key, ",".join(near), **meas)
        return []
    count = sum(v >= m["spanned_share"] for v in shares.values())
    return [_number(case, "lobes_spanned", a, count, "lobes", meas)]


def _digest(*parts: str) -> str:
    return hashlib.sha256("|".join(parts).encode()).hexdigest()


def balance(items: list[QAItem], skips: Skips, seed: int = 0) -> list[QAItem]:
    """Keep, per positive question text, equally many pairs answered Yes and No; the rest are
    skipped ("unbalanced"), chosen by a seeded hash of the pair, never by the answer's value."""
    pairs: dict[str, list[QAItem]] = defaultdict(list)
    for item in items:
        if item.meta.get("pair_id"):
            pairs[item.meta["pair_id"]].append(item)
    by_text: dict[str, dict[str, list[str]]] = defaultdict(lambda: {"Yes": [], "No": []})
    for pair_id, members in pairs.items():
        positive = next(i for i in members if i.meta["polarity"] == "positive")
        by_text[positive.question][positive.answer].append(pair_id)
    dropped: set[str] = set()
    for text, answers in by_text.items():
        keep = min(len(answers["Yes"]), len(answers["No"]))
        for ids in answers.values():
            ranked = sorted(ids, key=lambda p: _digest(str(seed), p))
            dropped.update(ranked[keep:])
    for pair_id in sorted(dropped):
        first = pairs[pair_id][0]
        skips.add(first.case_id, family_of(first), "unbalanced", first.meta["subject"],
                  first.meta["reference"])
    return [i for i in items if i.meta.get("pair_id") not in dropped]


_SWAP = {"Yes": "No", "No": "Yes"}


def mirrored_twins(items: list[QAItem]) -> list[QAItem]:
    """Each laterality question again, about the volume mirrored left-right: answer swapped."""
    twins = []
    for item in items:
        if family_of(item) != "laterality":
            continue
        meta = {**item.meta, "mirrored": True, "twin_of": item.qa_id,
                "pair_id": item.meta["pair_id"] + "::mirrored"}
        extra = {**item.extra, "measurement": {**item.extra["measurement"], "mirrored": True}}
        twins.append(replace(item, qa_id=item.qa_id + "::mirrored", answer=_SWAP[item.answer],
                             meta=meta, extra=extra))
    return twins
