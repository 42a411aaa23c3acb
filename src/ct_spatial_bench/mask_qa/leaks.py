"""Within-case leaks: a question whose answer follows from the case's other questions.

One relation is one pair of opposite polarity ("Is A above B?" / "Is A below B?") or one number;
the pair's two items are one relation asked two ways, never a leak of each other. What follows:

- order (above, anterior, closer to the midline, larger): A > B follows from a chain of the
  case's other relations of the same family, A > C > ... > B;
- containment: the finding's lobe asked Yes tells every other lobe's answer (No); a laterality
  answer tells the answer for every lobe on the other side;
- laterality of a finding follows from its lobe asked Yes; its lobe count (1) too;
- "on both sides?" follows from a question naming one side's piece ("the right pleural
  effusion") or asking the finding's side.

``leaks`` lists them by that definition, for a test; ``drop_leaks`` keeps relations in a seeded
order, each only if it neither follows from those kept nor makes one of them follow.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from typing import Any

from ..records import QAItem
from .questions import family_of

ORDERED = ("longitudinal_order", "depth_order", "medial_lateral_order", "size_comparison")


def relations(items: list[QAItem]) -> dict[str, list[QAItem]]:
    """case_id -> one record per relation (its positive item, or the number item)."""
    out: dict[str, list[QAItem]] = defaultdict(list)
    for item in items:
        meta = item.meta
        if meta.get("mirrored") or meta.get("polarity", "positive") != "positive":
            continue
        out[item.case_id].append(item)
    return out


def _unit(item: QAItem) -> str:
    return item.meta.get("pair_id") or item.qa_id


def _edge(item: QAItem) -> tuple[str, str]:
    """(greater, lesser) of an order relation (the positive pole's sense)."""
    a, b = item.meta["subject"], item.meta["reference"]
    return (a, b) if item.answer == "Yes" else (b, a)


def _reaches(edges: set[tuple[str, str]], start: str, goal: str) -> bool:
    nxt: dict[str, list[str]] = defaultdict(list)
    for x, y in edges:
        nxt[x].append(y)
    seen, todo = {start}, [start]
    while todo:
        for y in nxt[todo.pop()]:
            if y == goal:
                return True
            if y not in seen:
                seen.add(y)
                todo.append(y)
    return False


def _side_of_laterality(item: QAItem) -> str:
    return "right" if item.answer == "Yes" else "left"


def follows(item: QAItem, others: list[QAItem]) -> str | None:
    """Why ``item``'s answer follows from ``others`` (same case), or None."""
    family, subject = family_of(item), item.meta["subject"]
    if family in ORDERED:
        edges = {_edge(o) for o in others if family_of(o) == family}
        a, b = _edge(item)
        if _reaches(edges, a, b) or _reaches(edges, b, a):
            return f"{family}: a chain of the case's other {family} answers"
        return None
    same = [o for o in others if o.meta["subject"] == subject]
    lobe_yes = [o for o in same if family_of(o) == "containment" and o.answer == "Yes"]
    if family == "containment":
        if any(o.meta["reference"] != item.meta["reference"] for o in lobe_yes):
            return "containment: the finding's own lobe is asked"
        side = [_side_of_laterality(o) for o in same if family_of(o) == "laterality"]
        if side and item.meta.get("reference_side") not in (None, side[0]):
            return "containment: the finding's side is asked"
        return None
    if family in ("laterality", "lobes_spanned") and lobe_yes:
        return f"{family}: the finding's lobe is asked"
    if family == "bilaterality":
        pieces = (f"{subject}_right", f"{subject}_left")
        if any(o.meta["subject"] in pieces or o.meta["reference"] in pieces for o in others):
            return "bilaterality: a side's piece is named in another question"
        if any(family_of(o) == "laterality" for o in same):
            return "bilaterality: the finding's side is asked"
    return None


def leaks(items: list[QAItem]) -> list[dict[str, Any]]:
    """Every relation whose answer follows from its case's other relations, with the reason."""
    found = []
    for case_id, records in relations(items).items():
        for k, item in enumerate(records):
            reason = follows(item, records[:k] + records[k + 1:])
            if reason:
                found.append({"case_id": case_id, "relation": _unit(item), "reason": reason})
    return found


def _affected(candidate: QAItem, kept: list[QAItem]) -> list[QAItem]:
    """The kept relations whose answer could come to follow once ``candidate`` is added."""
    family = family_of(candidate)
    if family in ORDERED:
        same = [k for k in kept if family_of(k) == family]
    else:
        same = [k for k in kept if k.meta["subject"] == candidate.meta["subject"]]
    taken = {id(k) for k in same}  # by identity: each relation is one item (unique qa_id)
    return same + [k for k in kept if family_of(k) == "bilaterality" and id(k) not in taken]


def drop_leaks(items: list[QAItem], skips: Any, seed: int = 0) -> list[QAItem]:
    """Items without within-case leaks: relations taken in a seeded hash order (never by their
    answer), each kept only if it neither follows from those kept nor makes one of them follow;
    the others are skipped ("follows from the case's other questions")."""
    dropped: set[str] = set()
    for records in relations(items).values():
        kept: list[QAItem] = []
        order = sorted(records, key=lambda r: hashlib.sha256(
            f"{seed}|{_unit(r)}".encode()).hexdigest())
        for candidate in order:
            trial = kept + [candidate]
            if follows(candidate, kept) or any(
                    follows(k, [t for t in trial if t is not k])
                    for k in _affected(candidate, kept)):
                dropped.add(_unit(candidate))
                skips.add(candidate.case_id, family_of(candidate),
                          "follows from the case's other questions",
                          candidate.meta["subject"], candidate.meta["reference"])
                continue
            kept.append(candidate)
    return [i for i in items if _unit(i) not in dropped]
