"""A rules baseline for the spatial filter and the category tagger.

Upstream filtered generated QA with an LLM (Gemini) and tagged categories with another call. This
module does both offline from :mod:`.vocabulary`, so the pipeline runs without keys and so an
LLM filter has a transparent baseline to be compared against
(``benchmarks/spatial_classifier_agreement.py`` measures the agreement).

Decision rule, in words: an item is spatial when its question asks for a position or an extent
(a question cue such as "where" or "which lobe"), or when the question or the answer names a
position or relation outright (a strong term or a locator such as "left lower lobe"), or when the
question itself carries weak spatial words of two different categories ("mediastinal and hilar
lymph nodes, bilateral"). Weak words only in the answer are CT boilerplate and do not count.
Categories are every category with any matched term, strong or weak, in question or answer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from .categories import CATEGORIES
from .vocabulary import LOCATOR_TERMS, QUESTION_CUES, STRONG_TERMS, WEAK_TERMS

CLASSIFIER_NAME = "rules"
CLASSIFIER_VERSION = "rules-v1"

# Weak words in the question from this many categories make an item spatial on their own.
WEAK_CATEGORIES_FOR_SPATIAL = 2


@dataclass(frozen=True)
class SpatialClassification:
    """The filter's decision, the categories, and the terms that led to them (for auditing)."""

    is_spatial: bool
    categories: list[str]
    matched_terms: dict[str, list[str]] = field(default_factory=dict)
    classifier: str = CLASSIFIER_NAME
    version: str = CLASSIFIER_VERSION


def compile_terms(fragments: tuple[str, ...] | list[str]) -> re.Pattern[str] | None:
    """One case-insensitive alternation of ``fragments``, each bounded by word boundaries.

    Word boundaries keep "left" out of "cleft", "no" out of "nodule" and "mid" out of "amid".
    """
    fragments = [f for f in fragments if f]
    if not fragments:
        return None
    # Longest first, so "right upper lobe" wins over "right" when both could match at a point.
    ordered = sorted(fragments, key=len, reverse=True)
    return re.compile(r"\b(?:" + "|".join(ordered) + r")\b", re.IGNORECASE)


@lru_cache(maxsize=1)
def _patterns():
    strong = {cat: compile_terms(STRONG_TERMS.get(cat, ())) for cat in CATEGORIES}
    weak = {cat: compile_terms(WEAK_TERMS.get(cat, ())) for cat in CATEGORIES}
    cues = [(re.compile(r"\b(?:" + cue + r")\b", re.IGNORECASE), cats)
            for cue, cats in QUESTION_CUES.items()]
    locators = [(re.compile(r"\b(?:" + loc + r")\b", re.IGNORECASE), cats)
                for loc, cats in LOCATOR_TERMS.items()]
    return strong, weak, cues, locators


def _find(pattern: re.Pattern[str] | None, text: str) -> list[str]:
    if pattern is None or not text:
        return []
    return [m.group(0).lower() for m in pattern.finditer(text)]


def _add(matched: dict[str, list[str]], category: str, terms: list[str]) -> None:
    bucket = matched.setdefault(category, [])
    for term in terms:
        if term not in bucket:
            bucket.append(term)


def classify(question: str, answer: str = "") -> SpatialClassification:
    """Decide whether (question, answer) needs spatial reasoning and which categories it touches."""
    question = question or ""
    answer = answer or ""
    strong, weak, cues, locators = _patterns()
    matched: dict[str, list[str]] = {}
    spatial = False

    for pattern, cats in cues:
        found = _find(pattern, question)
        if found:
            spatial = True
            for cat in cats:
                _add(matched, cat, found)
    for pattern, cats in locators:
        for text in (question, answer):
            found = _find(pattern, text)
            if found:
                spatial = True
                for cat in cats:
                    _add(matched, cat, found)

    weak_question_categories = set()
    for cat in CATEGORIES:
        for text, is_question in ((question, True), (answer, False)):
            found_strong = _find(strong[cat], text)
            if found_strong:
                spatial = True
                _add(matched, cat, found_strong)
            found_weak = _find(weak[cat], text)
            if found_weak:
                _add(matched, cat, found_weak)
                if is_question:
                    weak_question_categories.add(cat)
    if len(weak_question_categories) >= WEAK_CATEGORIES_FOR_SPATIAL:
        spatial = True

    categories = [cat for cat in CATEGORIES if matched.get(cat)]
    matched_terms = {cat: matched[cat] for cat in categories}
    return SpatialClassification(is_spatial=spatial, categories=categories,
                                 matched_terms=matched_terms)


def is_spatial(question: str, answer: str = "") -> bool:
    """True when the question needs spatial reasoning (position, side, relation or extent)."""
    return classify(question, answer).is_spatial


def tag_categories(question: str, answer: str = "") -> list[str]:
    """The spatial categories the item touches, in the canonical order of ``CATEGORIES``.

    Tagging does not depend on the filter's decision: a non-spatial item may still carry a
    category when a weak term matched (the pipeline tags only the items it keeps).
    """
    return classify(question, answer).categories
