"""Normalised spatial terms of a free-text answer, and their comparison.

A reference says "left lower lobe" and a model says "RLL": a judge needs to see that side and lobe
disagree while the level agrees. :func:`extract_spatial_terms` maps text onto a few axes with
closed value sets; :func:`compare_spatial_terms` says, axis by axis, where a prediction agrees
with, contradicts, or leaves out what the reference states.

Axes and values:
    side        right, left, bilateral   (right + left together normalise to bilateral)
    vertical    upper, middle, lower
    depth       anterior, posterior
    centricity  central, peripheral, subpleural, perihilar, medial, lateral, midline
    lobe        RUL, RML, RLL, LUL, LLL, lingula   (a lobe also sets side and vertical)
    segment     the named segment ("superior", "posterior basal"...), kept apart so that
                "superior segment of the lower lobe" does not read as upper
    structure   lung, liver, kidney... (context only: never a conflict)
Values under a negation cue in their clause ("no effusion on the left") go to ``not_<axis>``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

AXES = ("side", "vertical", "depth", "centricity", "lobe", "segment", "structure")
COMPARED_AXES = ("side", "vertical", "depth", "centricity", "lobe", "segment")

# Values of one group exclude each other; values in different groups do not (medial vs peripheral).
EXCLUSIVE_GROUPS: dict[str, tuple[frozenset[str], ...]] = {
    "side": (frozenset({"right", "left", "bilateral"}),),
    "vertical": (frozenset({"upper", "middle", "lower"}),),
    "depth": (frozenset({"anterior", "posterior"}),),
    "centricity": (frozenset({"central", "peripheral", "subpleural", "perihilar"}),
                   frozenset({"medial", "lateral", "midline"})),
    "lobe": (frozenset({"RUL", "RML", "RLL", "LUL", "LLL", "lingula"}),),
}
# A specific value implies a general one: a subpleural finding is peripheral, the lingula lies
# in the left upper lobe.
IMPLIES = {"subpleural": {"peripheral"}, "perihilar": {"central"}, "lingula": {"LUL"}}

_LOBE_CODES = {("right", "upper"): "RUL", ("right", "middle"): "RML", ("right", "lower"): "RLL",
               ("left", "upper"): "LUL", ("left", "lower"): "LLL"}
_CODE_PARTS = {code: parts for parts, code in _LOBE_CODES.items()}

_SIDE = r"(right|left|r\.|l\.)"
_LEVEL = r"(upper|middle|lower)"
_LOBE_PATTERNS = (
    re.compile(rf"\b{_SIDE}\s+(?:lung\s*,?\s*)?{_LEVEL}\s+lobes?\b"),
    re.compile(rf"\b{_LEVEL}\s+lobes?\s+of\s+the\s+{_SIDE}\s+lung\b"),
)
_BOTH_LOBES = re.compile(rf"\b(?:both|bilateral)\s+(?:lungs?\s+)?{_LEVEL}\s+lobes\b"
                         rf"|\b{_LEVEL}\s+lobes\s+of\s+both\s+lungs\b")
_LOBE_ABBREVIATIONS = re.compile(r"\b(RUL|RML|RLL|LUL|LLL)\b", re.IGNORECASE)
_SEGMENT = re.compile(
    r"\b(apicoposterior|apical|anterior|posterior|superior|inferior|lateral|medial|anterobasal|"
    r"posterobasal|laterobasal|mediobasal|lateral basal|medial basal|anterior basal|"
    r"posterior basal|lingular)\s+(?:sub)?segments?\b")
_SEGMENT_ALIASES = {"posterobasal": "posterior basal", "anterobasal": "anterior basal",
                    "laterobasal": "lateral basal", "mediobasal": "medial basal"}

# (axis, value, pattern). Word boundaries keep "left" out of "cleft" and "mid" out of "amid".
_TERM_PATTERNS: tuple[tuple[str, str, str], ...] = (
    ("side", "bilateral", r"bilateral(?:ly)?|both\s+(?:lungs?|sides?|hemithora(?:x|ces)|hil\w*)"
                          r"|on\s+both\s+sides|right\s+and\s+left|left\s+and\s+right"),
    ("side", "right", r"right|dextro\w*"),
    ("side", "left", r"left|levo\w*"),
    ("vertical", "upper", r"upper|superior(?:ly)?(?!\s+vena)|apical(?:ly)?|apex|apices"
                          r"|cranial(?:ly)?|cephalad"),
    ("vertical", "middle", r"middle|mid"),
    ("vertical", "lower", r"lower|inferior(?:ly)?(?!\s+vena)|basal(?:ly)?|bibasal(?:ly)?|bases?"
                          r"|caudal(?:ly)?"),
    ("depth", "anterior", r"anterior(?:ly)?|ventral(?:ly)?|antero\w+|non\s?dependent"),
    ("depth", "posterior", r"posterior(?:ly)?|dorsal(?:ly)?|postero\w+|(?<!non )(?<!non)dependent"),
    ("centricity", "subpleural", r"subpleural"),
    ("centricity", "perihilar", r"perihilar|parahilar|hilar|hil(?:um|a)"),
    ("centricity", "central", r"central(?:ly)?|centre|center"),
    ("centricity", "peripheral", r"peripheral(?:ly)?|periphery"),
    ("centricity", "medial", r"medial(?:ly)?|paramedian"),
    ("centricity", "lateral", r"lateral(?:ly)?|anterolateral|posterolateral"),
    ("centricity", "midline", r"midline"),
    ("structure", "lung", r"lungs?|pulmonary|lobes?|lingula"),
    ("structure", "pleura", r"pleura[el]?|subpleural"),
    ("structure", "mediastinum", r"mediastin\w*"),
    ("structure", "liver", r"liver|hepatic"),
    ("structure", "kidney", r"kidneys?|renal"),
    ("structure", "adrenal", r"adrenals?"),
    ("structure", "breast", r"breasts?"),
    ("structure", "thyroid", r"thyroid"),
    ("structure", "axilla", r"axilla\w*"),
    ("structure", "heart", r"heart|cardiac|pericardi\w*"),
    ("structure", "aorta", r"aort\w*"),
)
_COMPILED = tuple((axis, value, re.compile(rf"\b(?:{pattern})\b"))
                  for axis, value, pattern in _TERM_PATTERNS)
# The "R." / "L." shorthand is only read in its upper-case form, before the text is lowered.
_SIDE_SHORTHAND = re.compile(r"(?<![\w.])([RL])\.(?=\s)")

NEGATION = re.compile(r"\b(?:no|not|none|without|absent|negative|neither|nor|free of)\b|n't\b")
_CLAUSE_SPLIT = re.compile(r"[.;:!?,()]|\b(?:but|however|whereas|while|although)\b")


@dataclass
class TermComparison:
    """Per-axis outcome of comparing a prediction's spatial terms with the reference's.

    ``conflicts`` and ``agreements`` hold ``(axis, reference_values, prediction_values)``;
    ``missing`` holds ``(axis, reference_values)`` for axes the prediction leaves out or covers
    only in part.
    """

    conflicts: list[tuple[str, frozenset[str], frozenset[str]]] = field(default_factory=list)
    agreements: list[tuple[str, frozenset[str], frozenset[str]]] = field(default_factory=list)
    missing: list[tuple[str, frozenset[str]]] = field(default_factory=list)

    @property
    def has_conflict(self) -> bool:
        return bool(self.conflicts)


def _side_value(token: str) -> str:
    return "right" if token.startswith("r") else "left"


class _Collector:
    """Collects (axis, value) pairs; one inside a negated span goes under ``not_<axis>``."""

    def __init__(self, negated_spans: list[tuple[int, int]]):
        self.negated_spans = negated_spans
        self.found: dict[str, set[str]] = {}

    def add(self, axis: str, values, position: int) -> None:
        negated = any(lo <= position < hi for lo, hi in self.negated_spans)
        self.found.setdefault(("not_" if negated else "") + axis, set()).update(
            [values] if isinstance(values, str) else values)


def _negated_spans(text: str) -> list[tuple[int, int]]:
    """From each negation cue to the end of its clause ("no effusion on the left, ...")."""
    spans, start = [], 0
    for boundary in [*(m.start() for m in _CLAUSE_SPLIT.finditer(text)), len(text)]:
        cue = NEGATION.search(text, start, boundary)
        if cue:
            spans.append((cue.start(), boundary))
        start = boundary + 1
    return spans


def _collect(text: str, out: _Collector) -> None:
    """Find every axis value in lower-cased ``text``."""
    lobes: list[tuple[str, int]] = []
    for pattern in _LOBE_PATTERNS:
        for match in pattern.finditer(text):
            groups = match.groups()
            side_token, level = (groups if groups[0] not in ("upper", "middle", "lower")
                                 else groups[::-1])
            code = _LOBE_CODES.get((_side_value(side_token), level))
            if code:
                lobes.append((code, match.start()))
    for match in _BOTH_LOBES.finditer(text):
        level = match.group(1) or match.group(2)
        lobes += [(code, match.start()) for (_, lv), code in _LOBE_CODES.items() if lv == level]
        out.add("side", "bilateral", match.start())
    lobes += [(m.group(1).upper(), m.start()) for m in _LOBE_ABBREVIATIONS.finditer(text)]
    lobes += [("lingula", m.start()) for m in re.finditer(r"\blingula(?:r)?\b", text)]
    # Only the right lung has a middle lobe.
    lobes += [("RML", m.start()) for m in re.finditer(r"\bmiddle\s+lobe\b", text)]
    for code, position in lobes:
        out.add("lobe", code, position)
        side, level = _CODE_PARTS.get(code, ("left", None))
        out.add("side", side, position)
        if level:
            out.add("vertical", level, position)
    for match in _SEGMENT.finditer(text):
        value = match.group(1)
        out.add("segment", _SEGMENT_ALIASES.get(value, value), match.start())
    # Segment names describe the part of a lobe, not the level or depth of the finding; blank
    # them (keeping offsets) before reading the other axes.
    rest = _SEGMENT.sub(lambda m: " " * len(m.group(0)), text)
    for axis, value, pattern in _COMPILED:
        for match in pattern.finditer(rest):
            out.add(axis, value, match.start())


def _normalise_side(values: set[str]) -> set[str]:
    if {"right", "left"} <= values:
        return (values - {"right", "left"}) | {"bilateral"}
    return values


def extract_spatial_terms(text: str) -> dict[str, frozenset[str]]:
    """Map ``text`` onto the spatial axes; negated values go to ``not_<axis>``.

    >>> extract_spatial_terms("Left lower lobe")["lobe"]
    frozenset({'LLL'})
    """
    if not text:
        return {}
    text = _SIDE_SHORTHAND.sub(lambda m: "right" if m.group(1) == "R" else "left", text)
    text = text.lower().replace("-", " ")
    collector = _Collector(_negated_spans(text))
    _collect(text, collector)
    result: dict[str, frozenset[str]] = {}
    for axis, values in collector.found.items():
        if axis.endswith("side"):
            values = _normalise_side(values)
        if values:
            result[axis] = frozenset(values)
    return result


def _closure(values: frozenset[str]) -> set[str]:
    out = set(values)
    for value in values:
        out |= IMPLIES.get(value, set())
    return out


def _contradicts(axis: str, value: str, reference: frozenset[str]) -> bool:
    """True when ``value`` (predicted) excludes some reference value on ``axis``."""
    ref_closure = _closure(reference)
    if value in ref_closure or _closure(frozenset({value})) & reference:
        return False
    groups = EXCLUSIVE_GROUPS.get(axis, ())
    return any(value in group and ref_closure & group for group in groups) or (
        axis == "segment" and bool(reference))


def compare_spatial_terms(
    reference: dict[str, frozenset[str]] | str, prediction: dict[str, frozenset[str]] | str
) -> TermComparison:
    """Compare two term maps (or texts) axis by axis over ``COMPARED_AXES``.

    A conflict is a predicted value that excludes a reference value on the same axis ("right"
    against "left", "RUL" against "RLL"), or a value one side asserts and the other negates.
    A reference value the prediction neither states nor implies is missing. "Right lung" against
    "right" agrees: the structure is context, not an axis that can conflict.
    """
    ref = extract_spatial_terms(reference) if isinstance(reference, str) else reference
    pred = extract_spatial_terms(prediction) if isinstance(prediction, str) else prediction
    result = TermComparison()
    for axis in COMPARED_AXES:
        ref_values = ref.get(axis, frozenset())
        pred_values = pred.get(axis, frozenset())
        negation_clash = (ref_values & pred.get("not_" + axis, frozenset())) or (
            pred_values & ref.get("not_" + axis, frozenset()))
        if negation_clash:
            result.conflicts.append((axis, ref_values, pred_values))
            continue
        if not ref_values:
            continue
        if not pred_values:
            result.missing.append((axis, ref_values))
            continue
        if any(_contradicts(axis, value, ref_values) for value in pred_values):
            result.conflicts.append((axis, ref_values, pred_values))
            continue
        pred_closure = _closure(pred_values)
        if all(value in pred_closure for value in ref_values):
            result.agreements.append((axis, ref_values, pred_values))
        else:
            result.missing.append((axis, ref_values))
    return result
