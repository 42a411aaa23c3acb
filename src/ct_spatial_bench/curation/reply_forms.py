"""The forms a curation prompt's reply may take (``reply`` in its file): a JSON object (this
project's prompts), a JSON list (upstream's generation and filter), or a list written as Python or
JSON (upstream's category tagger, whose prompt asks for a "Python-formatted list of strings").
"""

from __future__ import annotations

import json
from typing import Any

REPLY_FORMS = ("object", "json_list", "python_list")


class ReplyError(ValueError):
    """An LLM reply that is not the JSON the prompt asked for."""


def parse_json_object(text: str) -> dict[str, Any]:
    """The JSON object in ``text``, tolerating a Markdown code fence around it."""
    stripped = text.strip()
    if stripped.startswith("```"):
        stripped = stripped.strip("`")
        stripped = stripped[4:] if stripped.lower().startswith("json") else stripped
    start, end = stripped.find("{"), stripped.rfind("}")
    if start < 0 or end < start:
        raise ReplyError(f"no JSON object in the reply: {text[:200]!r}")
    try:
        value = json.loads(stripped[start:end + 1])
    except json.JSONDecodeError as exc:
        raise ReplyError(f"reply is not valid JSON ({exc.msg}): {text[:200]!r}") from exc
    if not isinstance(value, dict):
        raise ReplyError("reply is not a JSON object")
    return value


def _strip_fence(text: str) -> str:
    """``text`` without a Markdown code fence around it (```json, ```python or bare)."""
    stripped = text.strip()
    if stripped.startswith("```"):
        stripped = stripped.strip("`").strip()
        for language in ("json", "python"):
            if stripped.lower().startswith(language):
                stripped = stripped[len(language):]
    return stripped.strip()


def parse_list(text: str, python: bool = False) -> list[Any]:
    """The list a reply consists of: JSON, or with ``python`` also a Python literal (what
    upstream's get_qa_pairs_categories.py accepted); anything else is a ReplyError."""
    import ast

    stripped = _strip_fence(text)
    try:
        value = json.loads(stripped)
    except json.JSONDecodeError as exc:
        if not python:
            raise ReplyError(f"reply is not a JSON list ({exc.msg}): {text[:200]!r}") from exc
        try:
            value = ast.literal_eval(stripped)
        except (ValueError, SyntaxError) as exc2:
            raise ReplyError(f"reply is not a list: {text[:200]!r}") from exc2
    if not isinstance(value, list):
        raise ReplyError("reply is not a list")
    return value


def parse_reply(prompt: Any, text: str) -> Any:
    """The reply in the form ``prompt.reply`` names (a curation ``Prompt``)."""
    if prompt.reply == "object":
        return parse_json_object(text)
    return parse_list(text, python=prompt.reply == "python_list")
