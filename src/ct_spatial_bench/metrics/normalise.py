"""How texts are normalised before they are compared: upstream's preparation (``clean_text``,
for BLEU, ROUGE, SBERT and METEOR) and SQuAD's (``normalise_answer``, for exact match and token
F1); and a model's answer cut at its end tokens and run-on continuations (``clean_prediction``)."""

from __future__ import annotations

import re
import string
from typing import Any

_PUNCTUATION = set(string.punctuation)
_ARTICLES = re.compile(r"\b(a|an|the)\b")
END_TOKENS = re.compile(r"</s>|<s>|<\|[a-z_]+\|>|<unk>|#{2,}", re.IGNORECASE)
_CONTINUATION = re.compile(r"\b(?:question|q)\s*:|\banswer\s*:", re.IGNORECASE)


def clean_text(text: Any) -> str:
    """Upstream's preparation for BLEU, ROUGE and SBERT: stripped and lowercased."""
    return "" if text is None else str(text).strip().lower()


def normalise_answer(text: str) -> str:
    """Lowercase, drop punctuation and the articles a/an/the, collapse whitespace (SQuAD's rule)."""
    text = str(text).lower()
    text = "".join(ch for ch in text if ch not in _PUNCTUATION)
    text = _ARTICLES.sub(" ", text)
    return " ".join(text.split())


def clean_prediction(text: str | None) -> str:
    """The model's answer without end tokens and without a self-invented next "Question:"."""
    text = END_TOKENS.sub(" ", text or "")
    match = _CONTINUATION.search(text)
    if match and match.start() > 0:
        text = text[:match.start()]
    return re.sub(r"\s+", " ", text).strip()
