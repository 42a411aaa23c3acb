"""How the spatial-slot score reads a text: the slot values it states, and the slots a question asks.

The vocabulary is spatial/terms.py's; these rules say how a radiologist reads it in a slot answer
(tests/data/slot_labelling_guide.md), each general, linguistic or anatomical:

- a mediastinal station's name ("lower right paratracheal"; upper / lower in a sentence naming
  a paratracheal station) is a station, not a vertical level; its side stays. The hilum is a region (a station, the lung root), not a centricity value;
  "perihilar" stays central. A level named by a landmark is a vertical level: "at the level of
  the hilum / carina" is the middle, "above the carina" upper, "below the carina" lower.
- segment names are not slots: position words naming a segment ("posterobasal and mediobasal
  segments", "anteromedial basal segment") are left out; so are medial and lateral, which name
  parts (a lateral crus, a medial segment), not the guide's centricity (central, peripheral).
- "unilateral", "one lung", "one side" state one side; "each lung" and "both <paired organ>" state
  both; a side set naming both sides and one of them ("right ... and both lower lobes") is both.
- coordinated lobes are each read ("middle and lower lobes of the right lung", "the right lung's
  lower lobe"); an implied lobe (the lingula: left upper) states its side and level; a run-together
  zone ("midzone") is the middle.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from ct_spatial_bench.spatial.terms import IMPLIES, extract_spatial_terms

SLOT_AXES = ("side", "vertical", "depth", "centricity", "lobe")
_BOTH_SIDES = {"bilateral": frozenset({"right", "left"})}
_ONE_SIDE = {"right": frozenset({"unilateral"}), "left": frozenset({"unilateral"})}
_LOBE_PARTS = {"RUL": ("right", "upper"), "RML": ("right", "middle"), "RLL": ("right", "lower"),
               "LUL": ("left", "upper"), "LLL": ("left", "lower")}
_NOT_SLOTS = {"centricity": {"medial", "lateral"}}


def closure(values: Iterable[str]) -> set[str]:
    """The values and what they imply (subpleural: peripheral; bilateral: right and left)."""
    out = set(values)
    for value in list(out):
        out |= IMPLIES.get(value, set()) | _BOTH_SIDES.get(value, set()) | _ONE_SIDE.get(
            value, set())
    return out


_STATION = re.compile(r"\b(?:(?:upper|lower|high|low)\s+)?(?:(?:right|left)\s+)?"
                      r"(?:(?:upper|lower|high|low)\s+)?paratracheal\b", re.IGNORECASE)
_LANDMARK_LEVELS = (  # (pattern, the level it states); the side word of a hilum stays
    (re.compile(r"\b(?:at\s+)?(?:the\s+)?level\s+of\s+(?:the\s+)?(right\s+|left\s+|bilateral\s+)?"
                r"(?:hil(?:um|a|us)|hilar\s+regions?|carina)\b"
                r"|\b(right\s+|left\s+|bilateral\s+)?(?:hilar|carinal)\s+levels?\b",
                re.IGNORECASE), "mid level"),
    (re.compile(r"\babove\s+(?:the\s+)?carina\b|\bsupracarinal\b", re.IGNORECASE), "upper level"),
    (re.compile(r"\bbelow\s+(?:the\s+)?carina\b|\binfracarinal\b", re.IGNORECASE), "lower level"),
)
_SENTENCE = re.compile(r"[^.;]+")
# in a sentence naming a paratracheal station, a bare upper / lower is the station's
# ("paratracheal region, right upper and bilateral lower areas"), not a level of a lobe or zone
_STATION_LEVEL = re.compile(r"\b(?:upper|lower)\b(?!\s+(?:lobes?|zones?|poles?|thirds?|lungs?))",
                            re.IGNORECASE)
_HILUM = re.compile(r"\bhil(?:um|a|us|ar)\b", re.IGNORECASE)
_POSITION_WORD = (r"(?:anterior|posterior|superior|inferior|lateral|medial|apical|basal|"
                  r"antero\w*|postero\w*|latero\w*|medio\w*|apico\w*)")
_SEGMENT_NAME = re.compile(
    rf"\b{_POSITION_WORD}(?:(?:\s*[,/]\s*|\s+and\s+|\s+)(?:the\s+)?{_POSITION_WORD})*"
    rf"(?=\s+(?:lingular\s+)?(?:sub)?segments?\b)", re.IGNORECASE)
_LEVEL = r"(?:upper|middle|lower)"
_LOBE_LIST = re.compile(
    rf"\b(?:(right|left|both|bilateral)\s+(?:lungs?\s+)?)?({_LEVEL}(?:\s*(?:,|and|or|&|/)\s*"
    rf"(?:and\s+)?{_LEVEL})+)\s+lobes?\b(\s+of\s+(?:the\s+)?(?:right|left)\s+lung"
    rf"|\s+of\s+(?:the\s+)?(?:both|bilateral)\s+lungs?)?", re.IGNORECASE)
_BOTH_LUNG_LOBE = re.compile(rf"\b(?:both|bilateral)\s+lungs?\s+({_LEVEL})\s+lobes?\b"
                             rf"|\b({_LEVEL})\s+lobes?\s+of\s+(?:the\s+)?(?:both|bilateral)\s+"
                             rf"lungs?\b", re.IGNORECASE)
_PAIRED = re.compile(
    r"\bboth\s+(?:of\s+the\s+)?((?:main\s+|lung\s+|pleural\s+|upper\s+|lower\s+)?"
    r"(?:axill\w*|kidneys|adrenal\w*|breasts|bronch\w*|apices|apexes|bases|hemidiaphragms|"
    r"hil\w*|supraclavicular\w*|lobes|ureters|spaces|sinuses|costophrenic\w*|hemithora\w*))\b",
    re.IGNORECASE)
_EACH = re.compile(r"\beach\s+(lung|side|hemithorax)\b", re.IGNORECASE)
_PLURAL = {"lung": "lungs", "side": "sides", "hemithorax": "hemithoraces"}
_UNILATERAL = re.compile(r"\bunilateral(?:ly)?\b|\bone\s+(?:lung|side|hemithorax)\b",
                         re.IGNORECASE)


def _lobe_list(match: re.Match) -> str:
    """"right middle and lower lobes" -> "right middle lobe and right lower lobe"."""
    side, levels, suffix = match.group(1), match.group(2), match.group(3) or ""
    words = re.findall(_LEVEL, levels, re.IGNORECASE)
    if side and side.lower() in ("both", "bilateral"):
        return " and ".join(f"bilateral {w} lobes" for w in words)
    if "both" in suffix.lower() or "bilateral" in suffix.lower():
        return " and ".join(f"{w} lobes of both lungs" for w in words)
    return " and ".join(f"{side or ''} {w} lobe{suffix}".strip() for w in words)


def read_text(text: str) -> str:
    """The text with the rewrites above applied, ready for extract_spatial_terms."""
    text = re.sub(r"\b(lungs?)['’]s\b", r"\1", text or "", flags=re.IGNORECASE)
    text = _SEGMENT_NAME.sub("", text)
    text = _STATION.sub(lambda m: " ".join(w for w in m.group(0).split()
                                           if w.lower() in ("right", "left", "paratracheal")),
                        text)
    text = _SENTENCE.sub(lambda m: _STATION_LEVEL.sub("", m.group(0))
                         if "paratracheal" in m.group(0).lower() else m.group(0), text)
    text = _EACH.sub(lambda m: "both " + _PLURAL[m.group(1).lower()], text)
    text = _PAIRED.sub(lambda m: "bilateral " + m.group(1), text)
    for pattern, level in _LANDMARK_LEVELS:
        text = pattern.sub(lambda m, level=level: " ".join(
            [*(g.strip() for g in m.groups() if g), level]), text)
    text = _HILUM.sub("root", text)
    text = re.sub(r"\bmid(?=(?:zone|portion|pole|section|part|level)s?\b)", "mid ", text,
                  flags=re.IGNORECASE)
    text = _LOBE_LIST.sub(_lobe_list, text)
    return _BOTH_LUNG_LOBE.sub(lambda m: f"{m.group(1) or m.group(2)} lobes of both lungs", text)


def slot_terms(text: str) -> dict[str, frozenset[str]]:
    """The slot values a text states (read_text's rewrites, then the spatial vocabulary)."""
    text = read_text(text)
    terms = {axis: set(values) for axis, values in extract_spatial_terms(text).items()}
    for code in closure(terms.get("lobe", ())) - terms.get("lobe", set()):
        # an implied lobe (the lingula: the left upper lobe) states its side and level too
        side, level = _LOBE_PARTS.get(code, (None, None))
        for axis, value in (("side", side), ("vertical", level)):
            if value:
                terms.setdefault(axis, set()).add(value)
    if _UNILATERAL.search(text):
        terms.setdefault("side", set()).add("unilateral")
    for axis, dropped in _NOT_SLOTS.items():
        for key in (axis, "not_" + axis):
            terms[key] = terms.get(key, set()) - dropped
    for key in ("side", "not_side"):
        sides = terms.get(key, set())
        if {"right", "left"} <= sides or "bilateral" in sides:
            # both sides, one of them also named on its own ("right ... both lower lobes"): both
            terms[key] = (sides - {"right", "left"}) | {"bilateral"}
    return {axis: frozenset(values) for axis, values in terms.items() if values}


_CHOICE = re.compile(r"\b(?:or|versus|vs)\b", re.IGNORECASE)
_AUXILIARY_QUESTION = re.compile(r"^\s*(?:is|are|was|were|does|do|did|has|have|can)\b",
                                 re.IGNORECASE)
_YES_NO_QUESTION = re.compile(_AUXILIARY_QUESTION.pattern + r"(?!.*\bor\b)", re.IGNORECASE)
_YES_NO_ANSWER = re.compile(r"^\W*(?:yes|no)\b", re.IGNORECASE)
_NEGATIVE_ANSWER = re.compile(r"^\W*no\b|\b(?:was|were|is|are)\s+not\s+(?:been\s+)?(?:detected|"
                              r"observed|seen|present|found|identified|noted)\b", re.IGNORECASE)
_PLACE_ASKED = re.compile(r"\b(?:where|which|what)\b", re.IGNORECASE)
_SIDE_QUESTION = re.compile(r"\b(?:which|what)\s+side\b|\blaterality\b", re.IGNORECASE)
_OTHER_PLACE_ASKED = re.compile(r"\bwhere\b|\b(?:which|what)\s+(?:vertical\s+)?(?:level|lobes?|"
                                r"segments?|part|zone|region|location)\b", re.IGNORECASE)
_ONE_OR_BOTH = re.compile(r"\bunilateral\w*\b.*\bbilateral|\bbilateral\w*\b.*\bunilateral"
                          r"|\bone\b.*\bboth\b|\bboth\b.*\bone\b", re.IGNORECASE)
_COMPARATIVE_QUESTION = re.compile(r"\bmore\s+\w+|\blarger\b|\bpredominan\w*|\bmost\s+\w+",
                                   re.IGNORECASE)
_COMPARED_WITH = re.compile(r"\b(?:than|compared\s+(?:to|with))\b[^.;]*", re.IGNORECASE)


def question_reading(question: str, text: str) -> str:
    """A reference or prediction read for its question: where the question asks where something
    is more (or most) prominent, the place it is compared with ("... than on the right") is not
    the answer."""
    if _COMPARATIVE_QUESTION.search(question or ""):
        return _COMPARED_WITH.sub("", text or "")
    return text or ""


def _no_slot_asked(question: str, answer: str) -> bool:
    """A reference denying the finding a question asks about ("Is there ... on either side? -
    ... was not detected") locates nothing. A yes/no question answered yes/no asks no slot,
    unless it also asks the place ("and if so, where?")."""
    if not _AUXILIARY_QUESTION.match(question or ""):
        return False
    if _NEGATIVE_ANSWER.search(answer or ""):
        return True
    return (bool(_YES_NO_QUESTION.match(question)) and not _PLACE_ASKED.search(question)
            and bool(_YES_NO_ANSWER.match(answer or "")))


def asked_slots(question: str, answer: str) -> dict[str, frozenset[str]]:
    """``{axis: reference values}``: the axes the reference names and the question leaves open.

    A question that names a side or lobe asks about that one: the axis is given wherever the
    reference covers it ("left" against "bilateral", "left upper lobe" among two lobes). A
    question offering a choice ("right or left", "one or both lungs") gives nothing on the axis
    it offers; one asking one side or both asks just that (unilateral or bilateral). A question
    asking the side ("which side", laterality) and no other place asks only the side."""
    if _no_slot_asked(question, answer):
        return {}
    reference = slot_terms(question_reading(question, answer))
    in_question = slot_terms(question)
    choice = bool(_CHOICE.search(question or ""))
    side_only = bool(_SIDE_QUESTION.search(question or "")) and not _OTHER_PLACE_ASKED.search(
        _SIDE_QUESTION.sub(" ", question or ""))
    asked = {}
    for axis in SLOT_AXES:
        values, named = reference.get(axis), in_question.get(axis, frozenset())
        if (choice and (len(named) > 1 or "bilateral" in named)) or (axis == "side" and side_only):
            # the alternatives offered are no value given; "which side ... in the lingula?"
            # still asks the side
            named = frozenset()
        if not values or values <= closure(named):  # "subpleural" in the question: peripheral
            continue
        if axis in ("side", "lobe") and named and named <= closure(values) \
                and "bilateral" not in named:
            continue  # scoped by the question to the side or lobe it names
        asked[axis] = values
    if "side" in asked and _ONE_OR_BOTH.search(question or ""):
        asked["side"] = frozenset({"bilateral" if "bilateral" in asked["side"] else "unilateral"})
    if side_only and "side" in asked:
        asked = {"side": asked["side"]}
    return asked
