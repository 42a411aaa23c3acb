"""Offline-judge features that read the prediction against the question it answers.

The surface features of ``offline_features`` say how much the prediction and the reference share;
these say whether the prediction gives the kind of answer the question asked for, so that they
carry over from one model's style of answering to another's:

* answer form: a bare "yes"/"no" to a where/which/what question answers nothing;
* yes/no polarity resolved against the question: "It is normal." answers "Is it normal?" with yes
  and "Any abnormality?" with no, and a plain statement without negation is a yes;
* alternatives: which option of "left or right?" the reference and the prediction each chose;
* the spatial terms the question asked for (the reference's, less those the question gives),
  axis by axis: agreed, missing or contradicted;
* canonical word overlap: words folded by a small synonym table and cut to five letters, so that
  "distal" meets "lower", "mediastinal" meets "mediastinum" and "patent" meets "open";
* the first sentence alone (models append findings nobody asked about), structures (organs) the
  prediction adds, repetition, and hedges ("not specified").
"""

from __future__ import annotations

import re

from ct_spatial_bench.spatial.terms import COMPARED_AXES, compare_spatial_terms, extract_spatial_terms
from ct_spatial_bench.judges.rule import _answer_terms, _asserted
from ct_spatial_bench.judges.text import NEGATION_CUE, STOPWORDS, is_yes_no_question, normalise_answer

WORD = re.compile(r"[a-z0-9]+(?:\.\d+)?")
_LEADING_YES_NO = re.compile(r"^\s*(yes|no)\b", re.IGNORECASE)
_AUXILIARIES = frozenset("is are was were does do did has have had can could should will would"
                         .split())
_WH_WORD = re.compile(r"\b(?:where|which|what|how|when|who|whose)\b", re.IGNORECASE)
_SENTENCE_END = re.compile(r"[.;:!?]")
_FIRST_SENTENCE = re.compile(r"(?<=[a-z)])\.\s+|[!?;]\s*|\n")
_NORMAL = re.compile(r"\b(?:normal|natural|preserved|unremarkable|patent|open|intact|clear|usual"
                     r"|regular|within (?:normal )?limits)\b", re.IGNORECASE)
_NOT_NORMAL = re.compile(r"\babnormal\w*|\bnot (?:normal|natural|preserved|patent|open|intact)\b",
                         re.IGNORECASE)
# A question asking whether something is normal, and one asking whether something is wrong.
_ASKS_NORMAL = re.compile(r"\b(?:normal|natural|preserved|unremarkable|patent|open|intact|clear"
                          r"|within\s+normal|usual|regular|symmetric\w*)\b", re.IGNORECASE)
_ASKS_ABNORMAL = re.compile(
    r"\b(?:abnormal\w*|patholog\w*|enlarg\w*|any|lesions?|mass\w*|nodules?|effusion|evidence"
    r"|signs?|dilat\w*|thicken\w*|increase\w*|decrease\w*|calcif\w*|fractur\w*|findings?)\b",
    re.IGNORECASE)
_NO_ABNORMALITY = re.compile(r"\bno\b.{0,40}\b(?:abnormal|patholog|thicken|dilat|lesion|mass)",
                             re.IGNORECASE)
_ALTERNATIVE = re.compile(r"\b([\w-]+)\s+or\s+([\w-]+)")
_HEDGE = re.compile(r"\b(?:cannot be (?:determined|assessed|evaluated)|not (?:specified|mentioned"
                    r"|stated|described|visible|assessable)|unclear|indeterminate|unknown)\b",
                    re.IGNORECASE)
# Words the reports use interchangeably, folded before the five-letter cut.
_SYNONYMS = {
    "distal": "lower", "proximal": "upper", "caudal": "lower", "cranial": "upper",
    "inferior": "lower", "superior": "upper", "basal": "lower", "bases": "lower", "base": "lower",
    "apical": "upper", "apex": "upper", "apices": "upper", "patent": "open", "both": "bilateral",
    "bilaterally": "bilateral", "midline": "central", "centrally": "central",
    "caliber": "calibration", "calibre": "calibration", "width": "size", "dimension": "size",
    "dimensions": "size", "diameter": "size", "seen": "observed", "noted": "observed",
    "detected": "observed", "identified": "observed", "located": "observed",
    "enlarged": "increased", "enlargement": "increased", "natural": "normal",
    "unremarkable": "normal", "preserved": "normal", "dependent": "posterior"}
# Canonical words that say where without saying what ("located in the lung").
_GENERIC = frozenset(w[:5] for w in "located observed area areas region regions level part parts "
                     "portion lung lungs".split())
# Canonical options of a choice between positions ("unilateral or bilateral?", "left or right?"):
# "yes" or "no" answers none of them.
_POSITIONS = frozenset(w[:5] for w in (
    "bilateral unilateral left right one central peripheral upper lower middle anterior "
    "posterior medial lateral localized diffuse focal symmetrical asymmetrical ascending "
    "descending single multiple internal external intrapulmonary extrapulmonary".split()))
_AXIS_STATUS = {"agree": 1.0, "absent": 0.0, "missing": -1.0, "conflict": -2.0}


def overlap(reference: list[str], prediction: list[str]) -> tuple[float, float, float]:
    """(precision, recall, F1) of word sets; an empty side gives zeros."""
    ref, pred = set(reference), set(prediction)
    if not ref or not pred:
        return 0.0, 0.0, 0.0
    common = len(ref & pred)
    precision, recall = common / len(pred), common / len(ref)
    return precision, recall, (2 * precision * recall / (precision + recall) if common else 0.0)


def canonical_words(text: str) -> list[str]:
    """Content words, synonyms folded, cut to five letters ("Mediastinal" -> "media")."""
    return [_SYNONYMS.get(w, w)[:5] for w in WORD.findall(normalise_answer(text))
            if w not in STOPWORDS]


def first_sentence(text: str) -> str:
    return _FIRST_SENTENCE.split(text, maxsplit=1)[0] if text else ""


def asks_open_question(question: str) -> bool:
    """A where/which/what question, not led by an auxiliary ("Is it left or right?" is not)."""
    words = normalise_answer(question).split()
    return bool(words) and words[0] not in _AUXILIARIES and bool(_WH_WORD.search(question))


def polarity_against_question(text: str, question: str) -> float:
    """+1 yes, -1 no, 0 empty: an answer to the yes/no ``question``, read as a radiologist would.

    A leading yes/no decides; a "normal" first sentence is yes to "is it normal?" and no to "any
    abnormality?"; a negation in the first sentence is no (but "no pathological thickening" is
    yes to "is it normal?"); any other statement affirms.
    """
    text = (text or "").strip()
    if not text:
        return 0.0
    leading = _LEADING_YES_NO.match(text)
    if leading:
        return 1.0 if leading.group(1).lower() == "yes" else -1.0
    first = _SENTENCE_END.split(text, maxsplit=1)[0]
    if _NORMAL.search(first) and not _NOT_NORMAL.search(first):
        if _ASKS_NORMAL.search(question):
            return 1.0
        if _ASKS_ABNORMAL.search(question):
            return -1.0
    if NEGATION_CUE.search(first):
        return 1.0 if _ASKS_NORMAL.search(question) and _NO_ABNORMALITY.search(first) else -1.0
    return 1.0


def _options(question: str) -> tuple[str, str] | None:
    """The two options of "... X or Y ...", as canonical words."""
    match = _ALTERNATIVE.search(normalise_answer(question))
    if not match:
        return None
    options = tuple(canonical_words(match.group(i)) for i in (1, 2))
    if not all(options) or options[0] == options[1] or options[0][0] == "and":
        return None
    return options[0][0], options[1][0]


def _choice(text: str, options: tuple[str, str]) -> int:
    """0 neither option, 1 the first, 2 the second, 3 both."""
    words = set(canonical_words(text))
    return (1 if options[0] in words else 0) + (2 if options[1] in words else 0)


def _choice_features(question: str, answer: str, prediction: str) -> dict[str, float]:
    """Which option of "X or Y?" each side chose: ``choice_agreement`` +1 the same, -1 the
    other, 0.5 partly, 0 unknown; and a yes/no reply to a choice between positions."""
    options = _options(question)
    if not options:
        return {"choice_present": 0.0, "choice_agreement": 0.0, "yes_no_to_choice": 0.0}
    ref, pred = _choice(answer, options), _choice(prediction, options)
    agreement = (0.0 if not ref or not pred
                 else 1.0 if ref == pred else 0.5 if 3 in (ref, pred) else -1.0)
    positional = all(option in _POSITIONS for option in options)
    return {"choice_present": float(ref > 0), "choice_agreement": agreement,
            "yes_no_to_choice": float(positional and bool(_LEADING_YES_NO.match(prediction)))}


def _required_axes(question_terms: dict, answer_terms: dict, prediction_terms: dict
                   ) -> dict[str, float]:
    """Per axis, the asked-for reference terms against the prediction's (see _AXIS_STATUS)."""
    required = _answer_terms(question_terms, _asserted(answer_terms))
    comparison = compare_spatial_terms(required, _asserted(prediction_terms))
    status = dict.fromkeys(COMPARED_AXES, _AXIS_STATUS["absent"])
    for kind, items in (("agree", comparison.agreements), ("missing", comparison.missing),
                        ("conflict", comparison.conflicts)):
        for item in items:
            status[item[0]] = _AXIS_STATUS[kind]
    return {f"required_{axis}": value for axis, value in status.items()}


def _canonical_features(question: str, answer: str, prediction: str) -> dict[str, float]:
    given = set(canonical_words(question))
    ref = [w for w in canonical_words(answer) if w not in given]
    pred = [w for w in canonical_words(prediction) if w not in given]
    precision, recall, f1 = overlap(ref, pred)
    ref_content = [w for w in ref if w not in _GENERIC]
    pred_content = [w for w in pred if w not in _GENERIC]
    content_precision, content_recall, _ = overlap(ref_content, pred_content)
    first = [w for w in canonical_words(first_sentence(prediction)) if w not in given]
    first_precision, first_recall, first_f1 = overlap(ref, first)
    return {"canon_precision": precision, "canon_recall": recall, "canon_f1": f1,
            "canon_content_recall": content_recall, "canon_content_precision": content_precision,
            "canon_answer_words": float(len(set(ref_content))),
            "canon_unmatched_answer": float(len(set(ref_content) - set(pred_content))),
            "first_precision": first_precision, "first_recall": first_recall,
            "first_f1": first_f1}


def answer_features(question: str, answer: str, prediction: str,
                    terms: tuple[dict, dict, dict] | None = None) -> dict[str, float]:
    """The features of this module, by name; ``prediction`` is already cleaned. ``terms``: the
    spatial terms of the question, answer and prediction where the caller has them already."""
    yes_no = is_yes_no_question(question)
    leading_yes_no = bool(_LEADING_YES_NO.match(prediction))
    open_question = asks_open_question(question)
    if terms is None:
        terms = tuple(extract_spatial_terms(text) for text in (question, answer, prediction))
    question_structures, answer_structures, prediction_structures = (
        t.get("structure", frozenset()) for t in terms)
    stems = canonical_words(prediction)
    first = first_sentence(prediction)
    features = {
        "yes_no_to_open_question": float(leading_yes_no and open_question),
        "bare_yes_no_to_open_question": float(normalise_answer(prediction) in ("yes", "no")
                                              and open_question),
        "polarity_resolved_agreement": (polarity_against_question(answer, question)
                                        * polarity_against_question(prediction, question)
                                        if yes_no else 0.0),
        **_choice_features(question, answer, prediction),
        **_required_axes(*terms),
        "question_conflicts": float(len(compare_spatial_terms(
            _asserted(terms[0]), _asserted(terms[2])).conflicts)),
        "structure_recall": (len(answer_structures & (prediction_structures
                                                      | question_structures))
                             / len(answer_structures) if answer_structures else 0.0),
        "structure_added": float(len(prediction_structures - answer_structures
                                     - question_structures)),
        "prediction_repetition": 1 - len(set(stems)) / len(stems) if stems else 0.0,
        "prediction_sentences": float(sum(1 for s in re.split(r"[.!?]+\s*", prediction)
                                          if s.strip())),
        "first_sentence_share": len(first) / len(prediction) if prediction else 0.0,
        "first_sentence_negated": float(bool(NEGATION_CUE.search(first))),
        "hedge_prediction": float(bool(_HEDGE.search(prediction))),
        "hedge_answer": float(bool(_HEDGE.search(answer))),
    }
    features.update(_canonical_features(question, answer, prediction))
    return features
