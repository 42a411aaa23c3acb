"""How texts are normalised before they are compared: upstream's preparation (``clean_text``,
for BLEU, ROUGE, SBERT and METEOR) and SQuAD's (``normalise_answer``, for exact match and token
F1)."""

from __future__ import annotations

import re
import string
from typing import Any

_PUNCTUATION = set(string.punctuation)
_ARTICLES = re.compile(r"\b(a|an|the)\b")


def clean_text(text: Any) -> str:
    """Upstream's preparation for BLEU, ROUGE and SBERT: stripped and lowercased."""
    return "" if text is None else str(text).strip().lower()


def normalise_answer(text: str) -> str:
    """Lowercase, drop punctuation and the articles a/an/the, collapse whitespace (SQuAD's rule)."""
    text = str(text).lower()
    text = "".join(ch for ch in text if ch not in _PUNCTUATION)
    text = _ARTICLES.sub(" ", text)
    return " ".join(text.split())
