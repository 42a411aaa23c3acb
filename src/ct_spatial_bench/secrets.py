"""Secrets never leave the process: one redaction for every text that is stored or printed.

``redact_text`` removes, from any text:

- the *known* keys, by value, whatever their shape: the values of the environment variables the
  project reads keys from (``KEY_ENV_VARS``, and any ``*_API_KEY``/``*_TOKEN``/``*_SECRET``
  variable), plus every key handed to a client or read from conf credentials
  (``register_secret``). A provider that echoes a partly masked key ("sk-abc***xyz") is caught by
  the key's own prefix and suffix as well as by the generic pattern below;
- key-like patterns, known or not: ``sk-...``, ``AIza...``, ``Bearer <token>``, ``api_key=...``
  and masked echoes (a run of ``*`` or ``...`` inside a key-shaped word).

It is applied to error texts, judge reasons and raw replies before the cache, the records and the
report see them, and to every log record (``install_log_redaction``, called by the project's
hooks). ``redact`` walks dicts and lists. ``key_may_go_to`` is the rule for where a key is sent.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlparse

REDACTED = "<redacted>"
# The variables conf/base/credentials.yml and the models' ``api_key_env`` read by default.
KEY_ENV_VARS = ("OPENAI_API_KEY", "GEMINI_API_KEY", "GOOGLE_API_KEY", "DASHSCOPE_API_KEY",
                "HF_TOKEN", "HUGGING_FACE_HUB_TOKEN")
_SECRET_ENV_NAME = re.compile(r"(API_?KEY|TOKEN|SECRET|PASSWORD)$", re.I)
# Shorter values are not treated as keys by value: "EMPTY" or "none" would blank ordinary words.
MIN_KNOWN_LENGTH = 8
# How much of a known key's two ends a masked echo may show ("sk-abc***xyz", "...wxyz").
_ECHO_END = 4

_KEY_LIKE = re.compile(
    r"(?:\bsk-[A-Za-z0-9_\-*.]{6,}"                   # OpenAI-style, masked echoes included
    r"|(?<![A-Za-z0-9+/])AIza[0-9A-Za-z_\-*.]{10,}"   # Google API keys (not inside base64)
    r"|\b[A-Za-z0-9_\-]{2,}(?:\*{3,}|\u2026)[A-Za-z0-9_\-]*"  # any masked echo: ab***yz
    r")")
_BEARER = re.compile(r"(\bBearer\s+)[A-Za-z0-9._~+/=\-*]+", re.I)
_NAMED = re.compile(r"((?:api[_-]?key|x-goog-api-key|access[_-]?token|secret|password)"
                    r"[\"']?\s*[:=]\s*[\"']?)[^\s\"',;}&]+", re.I)

_NAME_TRIGGERS = ("api", "token", "secret", "password")

_registered: set[str] = set()


def register_secret(value: str | None) -> None:
    """Remember ``value`` as a key to remove wherever it appears (ignored when too short)."""
    if isinstance(value, str) and len(value.strip()) >= MIN_KNOWN_LENGTH:
        _registered.add(value.strip())


def known_secrets() -> set[str]:
    """The key values this process knows: registered ones and the secret environment variables."""
    found = set(_registered)
    for name, value in os.environ.items():
        if (name in KEY_ENV_VARS or _SECRET_ENV_NAME.search(name)) and \
                len(value.strip()) >= MIN_KNOWN_LENGTH:
            found.add(value.strip())
    return found


def _echo_pattern(key: str) -> str:
    """A masked echo of ``key``: its first characters, a mask, and optionally its last ones."""
    head, tail = re.escape(key[:_ECHO_END]), re.escape(key[-_ECHO_END:])
    return rf"{head}[A-Za-z0-9_\-]*(?:\*+|\.{{3}}|\u2026)[A-Za-z0-9_\-*]*(?:{tail})?"


def redact_text(text: Any, secrets: Iterable[str] | None = None) -> Any:
    """``text`` with every known key and key-like string replaced by ``<redacted>``; anything
    that is not a string is returned as it is."""
    if not isinstance(text, str) or not text:
        return text
    keys = sorted(known_secrets() if secrets is None else set(secrets), key=len, reverse=True)
    # Each pattern runs only where its trigger is present: most texts (answers, prompts) have
    # none, and records are redacted by the thousand.
    for key in keys:
        if key in text:
            text = text.replace(key, REDACTED)
    masked = "***" in text or "..." in text or "\u2026" in text
    if keys and masked:
        text = re.sub("|".join(_echo_pattern(k) for k in keys), REDACTED, text)
    lowered = text.lower()
    if "bearer" in lowered:
        text = _BEARER.sub(rf"\1{REDACTED}", text)
    if any(word in lowered for word in _NAME_TRIGGERS):
        text = _NAMED.sub(rf"\1{REDACTED}", text)
    if masked or "sk-" in text or "AIza" in text:
        text = _KEY_LIKE.sub(REDACTED, text)
    return text


def redact(value: Any) -> Any:
    """A copy of ``value`` (dicts, lists, tuples, strings) with ``redact_text`` applied to every
    string in it, keys of dicts included."""
    secrets = known_secrets()
    return _redact(value, secrets)


def _redact(value: Any, secrets: set[str]) -> Any:
    if isinstance(value, str):
        return redact_text(value, secrets)
    if isinstance(value, dict):
        return {_redact(k, secrets): _redact(v, secrets) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_redact(v, secrets) for v in value)
    return value


def error_text(exc: BaseException) -> str:
    """``"<ExceptionType>: <message>"`` with secrets removed: what a record may say of an error."""
    return redact_text(f"{type(exc).__name__}: {exc}")


class RedactingFilter(logging.Filter):
    """Rewrites a log record's message (arguments merged in) and its traceback text, redacted."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a malformed record is logging's problem, not ours
            return True
        cleaned = redact_text(message)
        if cleaned != message or record.args:
            record.msg, record.args = cleaned, None
        if record.exc_info and record.exc_info[1] is not None:
            import traceback

            record.exc_text = redact_text("".join(traceback.format_exception(*record.exc_info)))
            record.exc_info = None
        return True


_FILTER = RedactingFilter()


def install_log_redaction() -> None:
    """Put the filter on every handler of the root logger and of the loggers configured so far
    (a filter on a logger does not see its children's records; one on a handler does)."""
    loggers = [logging.getLogger(), *(logging.getLogger(name) for name in
                                      list(logging.root.manager.loggerDict))]
    for logger in loggers:
        for handler in getattr(logger, "handlers", []):
            if _FILTER not in handler.filters:
                handler.addFilter(_FILTER)


# Where each provider's own API lives: its key goes there, and elsewhere only when named.
PROVIDER_HOSTS = {
    "openai": ("api.openai.com",),
    "gemini": ("generativelanguage.googleapis.com",),
    "qwen": ("dashscope.aliyuncs.com", "dashscope-intl.aliyuncs.com"),
    "qwen_openai": ("dashscope.aliyuncs.com", "dashscope-intl.aliyuncs.com"),
}


def key_may_go_to(provider: str, base_url: str | None, key_named_for_url: bool) -> bool:
    """Whether the provider's credentials key may be sent to ``base_url``: always to the
    provider's own host (or when no base_url overrides it), elsewhere only when the config names
    the key explicitly for that server (``api_key_env`` or ``api_key``)."""
    if not base_url or key_named_for_url:
        return True
    host = (urlparse(base_url).hostname or "").lower()
    return any(host == own or host.endswith("." + own) for own in PROVIDER_HOSTS.get(provider, ()))
