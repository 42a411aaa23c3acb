"""Secrets never leave the process: one redaction for every text that is stored or printed.

``redact_text`` removes, from any text:

- the *known* keys, by value, whatever their shape and length: the values of the environment
  variables the project reads keys from (``KEY_ENV_VARS``, any ``*_API_KEY``/``*_TOKEN``/
  ``*_SECRET`` variable, and every variable any ``api_key_env`` names, whatever its name:
  ``register_secret_variable``), plus every key handed to a client, read from conf credentials or
  passed as a key in ``--params`` (``register_secret``). A key shorter than 8 characters is
  removed where it stands as a word of its own (not inside longer words). A provider that echoes
  a partly masked key ("sk-abc***xyz") is caught by the key's own prefix and suffix as well as by
  the generic pattern below;
- credentials inside URLs: ``scheme://user:password@host`` keeps only ``scheme://host``;
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
# Environment values shorter than this are keys only when a config names their variable
# (``api_key_env``): a variable that merely ends in TOKEN may hold an ordinary word. Known keys
# this short are matched as whole words.
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

_URL_CREDENTIALS = re.compile(r"(\b[A-Za-z][A-Za-z0-9+.\-]*://)[^/\s@?#]+@")

_registered: set[str] = set()
_variables: set[str] = set()  # environment variables named by some api_key_env


def register_secret(value: str | None) -> None:
    """Remember ``value`` (a key, whatever its length) to remove wherever it appears."""
    if isinstance(value, str) and value.strip():
        _registered.add(value.strip())


def register_secret_variable(name: str | None) -> None:
    """Remember that environment variable ``name`` holds a key (a config's ``api_key_env``):
    its value is removed from every text, whatever the variable's name and the value's length."""
    if isinstance(name, str) and name:
        _variables.add(name)


def register_key_variables(config: Any) -> None:
    """Register every variable named by an ``api_key_env`` anywhere in ``config`` (the run's
    parameters: judges, models, curation)."""
    if isinstance(config, dict):
        for key, value in config.items():
            if key == "api_key_env":
                register_secret_variable(value if isinstance(value, str) else None)
            register_key_variables(value)
    elif isinstance(config, (list, tuple)):
        for value in config:
            register_key_variables(value)


def known_secrets() -> set[str]:
    """The key values this process knows: registered ones and the secret environment variables."""
    found = set(_registered)
    for name, value in os.environ.items():
        if name in _variables and value.strip():
            found.add(value.strip())
        elif (name in KEY_ENV_VARS or _SECRET_ENV_NAME.search(name)) and \
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
    if "://" in text and "@" in text:
        text = _URL_CREDENTIALS.sub(r"\1", text)
    for key in keys:
        if key in text:
            if len(key) >= MIN_KNOWN_LENGTH:
                text = text.replace(key, REDACTED)
            else:  # a short key as a word of its own, not the same letters inside a word
                text = re.sub(rf"(?<![A-Za-z0-9]){re.escape(key)}(?![A-Za-z0-9])", REDACTED,
                              text)
    masked = "***" in text or "..." in text or "\u2026" in text
    long_keys = [k for k in keys if len(k) >= MIN_KNOWN_LENGTH]
    if long_keys and masked:
        text = re.sub("|".join(_echo_pattern(k) for k in long_keys), REDACTED, text)
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
