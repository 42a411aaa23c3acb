"""Offline QA generation: spatial statements of a report turned into templated QA pairs.

The fallback when no LLM is configured (the default). A *spatial statement* is a sentence of
the report that asserts a finding (not negated) and places it: "A 6 mm nodule is seen in the
right upper lobe." For each one the generator asks where the finding is (answer: the statement)
and, per axis the statement fixes, a closed question: which lobe, which side, upper or lower,
central or peripheral, anterior or posterior. Axes come from
:func:`ct_spatial_bench.spatial.terms.extract_spatial_terms`, so the answers use the same
normalised values the rule judge compares.
"""

from __future__ import annotations

import re
from typing import Any

GENERATOR_NAME = "templates"
GENERATOR_VERSION = "templates-v1"

# Findings worth asking about, longest first so "ground-glass opacities" wins over "opacities".
FINDING_TERMS = (
    r"ground[- ]glass (?:opacit(?:y|ies)|densit(?:y|ies)|areas?)", r"pleural effusions?",
    r"pericardial effusions?", r"lymph nodes?", r"(?:pulmonary )?nodules?", r"masse?s?",
    r"consolidations?", r"atelectas[ie]s", r"emphysema(?:tous changes)?", r"bronchiectas[ie]s",
    r"opacit(?:y|ies)", r"densit(?:y|ies)", r"infiltrat(?:e|es|ion)", r"cysts?", r"bullae?",
    r"calcifications?", r"(?:calcified )?plaques?", r"lesions?", r"fibrotic (?:changes|bands?)",
    r"fibrosis", r"(?:pleural )?thickening", r"effusions?", r"pneumothorax", r"hernia",
    r"granulomas?", r"sequelae? changes?", r"bands?",
)
_FINDING = re.compile(r"\b(?:" + "|".join(FINDING_TERMS) + r")\b", re.IGNORECASE)
_SENTENCE_SPLIT = re.compile(r"(?<=[.;])\s+")
# A statement under a negation is not a finding to place ("No nodule in the right lung").
_NEGATED = re.compile(r"\b(?:no|not|without|none|neither|nor|free of|absent)\b|n't\b",
                      re.IGNORECASE)
# A section label at the start of a sentence ("Findings: ", "Lungs: ") is not part of the answer.
_SECTION_LABEL = re.compile(r"^(?:[A-Z][A-Za-z ]{0,30}:\s*)+")
_MASS_NOUNS = ("ss", "sis", "ses", "ax", "ema")  # singular despite a final s, or uncountable

LOBE_NAMES = {"RUL": "right upper lobe", "RML": "right middle lobe", "RLL": "right lower lobe",
              "LUL": "left upper lobe", "LLL": "left lower lobe", "lingula": "lingula"}
_LOBE_ORDER = tuple(LOBE_NAMES)
_LOBE_MENTION = re.compile(r"\blobe\b|\blingula", re.IGNORECASE)
_SIDE_ANSWERS = {"right": "Right.", "left": "Left.", "bilateral": "Both sides (bilateral)."}


def spatial_statements(text: str) -> list[tuple[str, str, dict[str, frozenset[str]]]]:
    """(sentence, finding, spatial terms) for each sentence that places a finding."""
    from ct_spatial_bench.spatial.terms import extract_spatial_terms

    statements = []
    for sentence in _SENTENCE_SPLIT.split(text or ""):
        sentence = _SECTION_LABEL.sub("", sentence.strip())
        if not sentence or _NEGATED.search(sentence):
            continue
        finding = _FINDING.search(sentence)
        if not finding:
            continue
        terms = extract_spatial_terms(sentence)
        if any(terms.get(axis) for axis in ("side", "vertical", "depth", "centricity", "lobe")):
            statements.append((sentence, finding.group(0).lower(), terms))
    return statements


def _is_plural(noun: str) -> bool:
    last = noun.split()[-1]
    return last.endswith("s") and not last.endswith(_MASS_NOUNS) or last.endswith("ies")


def _join(values: list[str]) -> str:
    return values[0] if len(values) == 1 else ", ".join(values[:-1]) + " and " + values[-1]


def _closed_questions(sentence: str, finding: str, terms: dict[str, frozenset[str]]
                      ) -> list[tuple[str, str, str]]:
    """(template name, question, answer) for each axis the statement fixes unambiguously."""
    be = "are" if _is_plural(finding) else "is"
    the = f"the {finding}"
    out = []
    lobes = [LOBE_NAMES[c] for c in _LOBE_ORDER if c in terms.get("lobe", ())]
    # "the upper lobe and lower lobe of the right lung" names two lobes that the term reader
    # sees as one: when lobes are named more often than read, the lobe answer would be partial.
    if lobes and len(_LOBE_MENTION.findall(sentence)) <= len(lobes):
        answer = f"In the {_join(lobes)}."
        out.append(("lobe", f"In which lobe {be} {the} located?", answer))
    side = terms.get("side", frozenset())
    if len(side) == 1:
        out.append(("side", f"On which side {be} {the}?", _SIDE_ANSWERS[next(iter(side))]))
    vertical = terms.get("vertical", frozenset())
    if len(vertical) == 1 and not lobes and "middle" not in vertical:
        out.append(("vertical", f"{be.capitalize()} {the} in the upper or lower part of the lung?",
                    f"The {next(iter(vertical))} part."))
    depth = terms.get("depth", frozenset())
    if len(depth) == 1:
        out.append(("depth", f"{be.capitalize()} {the} anterior or posterior?",
                    f"{next(iter(depth)).capitalize()}."))
    centricity = terms.get("centricity", frozenset()) & {"central", "peripheral", "subpleural"}
    if len(centricity) == 1:
        value = next(iter(centricity))
        answer = "Peripheral (subpleural)." if value == "subpleural" else f"{value.capitalize()}."
        out.append(("centricity", f"{be.capitalize()} {the} central or peripheral?", answer))
    return out


def templated_qa_pairs(report_text: str, max_pairs: int = 10) -> list[dict[str, Any]]:
    """Up to ``max_pairs`` QA pairs from the report's spatial statements, in report order.

    Each pair is ``{question, answer, template, statement}``; a question asked twice (the same
    finding placed twice) is kept once, with its first statement's answer.
    """
    pairs: list[dict[str, Any]] = []
    asked: set[str] = set()
    for sentence, finding, terms in spatial_statements(report_text):
        be = "are" if _is_plural(finding) else "is"
        candidates = [("where", f"Where {be} the {finding} located?", sentence)]
        candidates += _closed_questions(sentence, finding, terms)
        for template, question, answer in candidates:
            if question.lower() in asked:
                continue
            asked.add(question.lower())
            pairs.append({"question": question, "answer": answer, "template": template,
                          "statement": sentence})
            if len(pairs) >= max_pairs:
                return pairs
    return pairs
