"""Text normalisation shared by the offline judge and anyone comparing short answers.

Kept small and dependency-free: lower-casing, punctuation and article stripping, token F1,
yes/no polarity and measurements with units, each with word boundaries so that "no" is never
read inside "nodule" or "node".
"""

from __future__ import annotations

import re

from ct_spatial_bench.metrics.text import bag_f1

_ARTICLES = re.compile(r"\b(?:a|an|the)\b")
_PUNCTUATION = re.compile(r"[^\w\s.]|(?<!\d)\.|\.(?!\d)")  # keep decimal points in "5.5"
_SPACES = re.compile(r"\s+")

# Function words that carry no content for token overlap.
STOPWORDS = frozenset(
    "a an the in on at of is are was were be been it its this that there these those and or "
    "to with by for as from which what where".split())

_AUXILIARIES = ("is", "are", "was", "were", "does", "do", "did", "has", "have", "had", "can",
                "could", "should", "will", "would", "may", "might", "must")
_YES = re.compile(r"^\s*(?:yes|yeah|yep|correct|true|affirmative|present)\b", re.IGNORECASE)
_NO = re.compile(r"^\s*(?:no|nope|none|false|negative|absent|not present|not seen)\b",
                 re.IGNORECASE)
NEGATION_CUE = re.compile(
    r"\b(?:no|not|none|without|absent|negative|neither|nor|free of|ruled out)\b|n't\b",
    re.IGNORECASE)
_FIRST_CLAUSE = re.compile(r"[.;:!?,]|\b(?:but|however|whereas|although)\b", re.IGNORECASE)
_EXISTENCE_QUESTION = re.compile(
    r"^\s*(?:is|are|was|were)\s+there\b|\bany\b|\bevidence\b|\bpresent\b|\bseen\b|\bdetected\b"
    r"|\bobserved\b|\bnoted\b", re.IGNORECASE)

_NUMBER = r"(\d+(?:[.,]\d+)?)"
_MEASUREMENT = re.compile(
    rf"{_NUMBER}(?:\s*(?:x|×|\*|by)\s*{_NUMBER})?(?:\s*(?:x|×|\*|by)\s*{_NUMBER})?\s*(mm|cm)\b",
    re.IGNORECASE)
_TO_MM = {"mm": 1.0, "cm": 10.0}
_NUMBER_WORDS = {"zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
                 "seven": 7, "eight": 8, "nine": 9, "ten": 10, "single": 1, "both": 2}


def normalise_answer(text: str) -> str:
    """Lower-case, drop punctuation (not decimal points) and articles, collapse whitespace."""
    text = (text or "").lower()
    text = _PUNCTUATION.sub(" ", text)
    text = _ARTICLES.sub(" ", text)
    return _SPACES.sub(" ", text).strip()


def content_tokens(text: str) -> list[str]:
    return [t for t in normalise_answer(text).split() if t not in STOPWORDS]


def token_f1(reference: str, prediction: str) -> float:
    """SQuAD-style token F1 on content words (stopwords removed)."""
    return bag_f1(content_tokens(reference), content_tokens(prediction))


def is_yes_no_question(question: str) -> bool:
    """An auxiliary-led question without an alternative ("Is it central or peripheral?" is not)."""
    words = normalise_answer(question).split()
    return bool(words) and words[0] in _AUXILIARIES and " or " not in f" {' '.join(words)} "


def answer_polarity(answer: str, question: str = "") -> bool | None:
    """True for an affirmative answer, False for a negative one, None when it cannot tell.

    An explicit leading yes/no decides. Otherwise a negation cue in the first clause ("There is
    no effusion", "not present") makes it negative; for existence questions ("Is there...",
    "any...") an answer that describes the finding without negation is affirmative.
    """
    if _YES.match(answer or ""):
        return True
    if _NO.match(answer or ""):
        return False
    first_clause = _FIRST_CLAUSE.split(answer or "", maxsplit=1)[0]
    if NEGATION_CUE.search(first_clause):
        return False
    if question and _EXISTENCE_QUESTION.search(question) and first_clause.strip():
        return True
    return None


def measurements_mm(text: str) -> list[float]:
    """Every measurement with a unit, converted to millimetres ("15x11 mm" gives 15 and 11)."""
    values: list[float] = []
    for match in _MEASUREMENT.finditer(text or ""):
        scale = _TO_MM[match.group(4).lower()]
        for group in match.groups()[:3]:
            if group:
                values.append(float(group.replace(",", ".")) * scale)
    return values


def counts(text: str) -> list[int]:
    """Bare integers and number words ("two lobes", "3"), for "how many" questions."""
    found = [int(n) for n in re.findall(r"(?<![\d.])\d+(?![\d.])", text or "")]
    found += [_NUMBER_WORDS[w] for w in normalise_answer(text).split() if w in _NUMBER_WORDS]
    return found
