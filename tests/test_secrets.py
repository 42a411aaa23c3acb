"""The one redaction: known keys by value (any shape), key-like patterns, masked echoes; logs."""

from __future__ import annotations

import logging

import pytest

from ct_spatial_bench.secrets import (
    REDACTED, RedactingFilter, key_may_go_to, redact, redact_text, register_secret,
)

ODD_KEY = "plain-Key-with-no-prefix-0042"


def test_a_known_key_of_any_shape_and_its_masked_echo(monkeypatch):
    monkeypatch.setenv("DASHSCOPE_API_KEY", ODD_KEY)
    assert redact_text(f"401: bad key {ODD_KEY}.") == f"401: bad key {REDACTED}."
    # a provider's partly masked echo: the key's first characters, stars, its last four
    masked = f"{ODD_KEY[:6]}**********{ODD_KEY[-4:]}"
    assert ODD_KEY[-4:] not in redact_text(f"Incorrect API key provided: {masked}")


def test_a_registered_key_is_removed_whatever_its_length_a_short_one_as_a_word():
    register_secret("registered-secret-value-77")
    register_secret("k9Z")  # a short key is still a key (issue 21)
    assert redact_text("x registered-secret-value-77 y") == f"x {REDACTED} y"
    assert redact_text("key k9Z rejected") == f"key {REDACTED} rejected"
    assert redact_text("ak9Zb stays") == "ak9Zb stays"  # inside a longer word it is not the key


@pytest.mark.parametrize("text", [
    "Incorrect API key provided: sk-proj-abcdefghijklmnop1234",
    "Incorrect API key provided: sk-abc************************wxyz",
    "API key not valid: AIzaSyA1234567890abcdefghijklmnopqrstu",
    "header Authorization: Bearer abc.def-ghi_jkl",
    'config {"api_key": "whatever-it-is"}',
])
def test_key_like_patterns(text):
    out = redact_text(text)
    assert REDACTED in out
    assert not any(part in out for part in ("abcdefghijklmnop", "wxyz", "SyA123", "abc.def",
                                            "whatever-it-is"))


@pytest.mark.parametrize("text", [
    "The nodule is in the left upper lobe, 12 mm, anterior to the aorta.",
    "task-based masking of the right kidney", "**YES** - same lobe", "No.",
])
def test_ordinary_text_is_left_alone(text):
    assert redact_text(text) == text


def test_redact_walks_records(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", ODD_KEY)
    record = {"qa_id": "a::0", "error": f"AuthenticationError: {ODD_KEY}", "tokens": {"total": 3},
              "raw": [f"echo {ODD_KEY}"]}
    assert redact(record) == {"qa_id": "a::0", "error": f"AuthenticationError: {REDACTED}",
                              "tokens": {"total": 3}, "raw": [f"echo {REDACTED}"]}


def test_the_log_filter_rewrites_message_arguments_and_tracebacks(monkeypatch):
    monkeypatch.setenv("GEMINI_API_KEY", ODD_KEY)
    try:
        raise RuntimeError(f"rejected {ODD_KEY}")
    except RuntimeError as exc:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "call failed: %s", (exc,),
                                   exc_info=(type(exc), exc, exc.__traceback__))
    assert RedactingFilter().filter(record)
    formatted = logging.Formatter().format(record)
    assert ODD_KEY not in formatted and "call failed: rejected <redacted>" in formatted


@pytest.mark.parametrize("provider, url, named, allowed", [
    ("openai", None, False, True),
    ("openai", "https://api.openai.com/v1", False, True),
    ("openai", "http://127.0.0.1:8000/v1", False, False),
    ("openai", "https://api.openai.com.evil.example/v1", False, False),
    ("openai", "http://vllm.internal:8000/v1", True, True),
    ("gemini", "https://generativelanguage.googleapis.com", False, True),
    ("qwen", "https://dashscope-intl.aliyuncs.com/api/v1", False, True),
])
def test_a_key_goes_to_its_providers_host_or_where_it_is_named(provider, url, named, allowed):
    assert key_may_go_to(provider, url, named) is allowed
