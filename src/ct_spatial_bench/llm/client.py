"""What every LLM provider shares; a provider file adds only its SDK call and its error mapping.

A provider implements ``open()``/``aclose()`` (make and close its async SDK client inside the
running event loop) and ``complete(system, user, max_tokens, json_mode) -> Completion``, raising
``TransientError`` for what is worth retrying (429, 408, 5xx, timeouts, dropped connections) with
the server's Retry-After when it sent one. SDK retries are off: the engine owns retrying, so a
retry is counted, paced and capped in one place.
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

RETRYABLE_STATUS = frozenset({408, 409, 429})  # plus every 5xx


def is_retryable_status(status: int | None) -> bool:
    return status is not None and (status in RETRYABLE_STATUS or status >= 500)


class TransientError(Exception):
    """A call that may succeed if repeated; ``retry_after`` is the server's wait, in seconds."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class FatalLLMError(Exception):
    """An error no retry and no other item will fix (a rejected key, an unknown model)."""


def retry_after_seconds(headers: Mapping[str, str] | None) -> float | None:
    """Seconds to wait from ``retry-after-ms`` or ``retry-after`` (seconds or an HTTP date)."""
    if not headers:
        return None
    lowered = {str(k).lower(): v for k, v in dict(headers).items()}
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        value = lowered.get(name)
        if value is None:
            continue
        try:
            return max(0.0, float(value) * scale)
        except ValueError:
            pass
        try:
            when = email.utils.parsedate_to_datetime(value)
            return max(0.0, when.timestamp() - time.time())
        except (TypeError, ValueError):
            continue
    return None


def raise_for_status(status: int | None, message: str, headers: Mapping[str, str] | None) -> None:
    """Map a failed HTTP status to the engine's errors; other statuses fail the item only. The
    server's message is redacted: a 401 body often echoes the key it was sent."""
    from ct_spatial_bench.secrets import redact_text

    message = redact_text(message)
    if is_retryable_status(status):
        raise TransientError(message, retry_after_seconds(headers))
    if status in (401, 403, 404):
        raise FatalLLMError(message)
    raise RuntimeError(message)


@dataclass
class Completion:
    """A provider's reply: its text (or its refusal) and the tokens it cost."""

    text: str | None
    tokens: dict[str, int] = field(default_factory=dict)
    refusal: str | None = None
    undecodable: str | None = None  # a reply that was not UTF-8: its bytes, escaped


def token_counts(prompt: int | None, completion: int | None, total: int | None = None
                 ) -> dict[str, int]:
    prompt, completion = int(prompt or 0), int(completion or 0)
    return {"prompt": prompt, "completion": completion, "total": int(total or prompt + completion)}


class LLMClient:
    """One provider's API, with the pacing the engine applies to it.

    ``provider`` names the API (part of every cache key); ``credentials_name`` is the entry in
    conf credentials holding the key (None: a key is optional), ``api_key_env`` its variable.
    """

    provider = ""
    default_model: str | None = None
    credentials_name: str | None = None
    api_key_env: str | None = None

    def __init__(
        self,
        model: str | None = None,
        api_key: str | None = None,
        base_url: str | None = None,
        temperature: float = 0.0,
        concurrency: int = 8,
        requests_per_minute: float | None = None,
        tokens_per_minute: float | None = None,
        max_retries: int = 6,
        timeout_s: float = 60.0,
        backoff_base_s: float = 1.0,
        backoff_max_s: float = 60.0,
    ) -> None:
        from ct_spatial_bench.llm.endpoints import effective_base_url, url_credentials
        from ct_spatial_bench.secrets import register_secret

        self.model = model or self.default_model
        if not self.model:
            raise ValueError(f"LLM provider {self.provider!r} needs a 'model'")
        register_secret(api_key)  # whatever its shape, it is removed from every text we keep
        self.api_key = api_key
        # The URL the SDK will call (config, else the SDK's own environment variable, else its
        # default), given to the SDK explicitly: what the key rule checked is what is called.
        self.base_url = effective_base_url(self.provider, base_url)
        for part in url_credentials(self.base_url):
            register_secret(part)
        self.temperature = temperature
        self.concurrency = int(concurrency)
        self.requests_per_minute = requests_per_minute
        self.tokens_per_minute = tokens_per_minute
        self.max_retries = int(max_retries)
        self.timeout_s = float(timeout_s)
        self.backoff_base_s = float(backoff_base_s)
        self.backoff_max_s = float(backoff_max_s)

    def __repr__(self) -> str:  # never shows the key
        return f"{type(self).__name__}(model={self.model!r}, base_url={self.shown_url!r})"

    @property
    def shown_url(self) -> str | None:
        """The base URL as it may be stored or shown: without ``user:password@``."""
        from ct_spatial_bench.llm.endpoints import without_credentials

        return without_credentials(self.base_url)

    def settings(self) -> dict[str, Any]:
        """What a record may say about how it was asked (never the key)."""
        return {"provider": self.provider, "model": self.model, "base_url": self.shown_url,
                "temperature": self.temperature}

    # -- what a provider implements
    async def open(self) -> None:
        raise NotImplementedError

    async def aclose(self) -> None:
        raise NotImplementedError

    async def complete(self, system: str | None, user: str, max_tokens: int,
                       json_mode: bool = False, schema: dict | None = None,
                       decoding: dict | None = None) -> Completion:
        """One call. ``json_mode`` asks the API for a JSON object where it offers that;
        ``schema`` for a reply following that JSON schema, through the provider's
        structured-output mode (JSON mode where it has no schema mode). ``system`` None sends
        no system message; ``decoding`` (None: the client's temperature and ``max_tokens``) is
        exactly the generation settings to send (``{}``: the SDK's)."""
        raise NotImplementedError


def undecodable_reply(exc: BaseException) -> Completion | None:
    """The reply an SDK could not decode (not UTF-8), as a Completion keeping its bytes escaped;
    None when ``exc`` is no decoding error. Such a reply was paid for: it is stored as failed,
    not asked again on every run."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, UnicodeDecodeError):
            data = exc.object if isinstance(exc.object, bytes) else bytes(exc.object)
            return Completion(text=None, undecodable=data.decode("utf-8", "backslashreplace"))
        exc = exc.__cause__ or exc.__context__
    return None


def client_args(client: LLMClient) -> dict[str, Any]:
    """Keyword arguments common to SDK clients: the key, and the base URL only when one is set."""
    args: dict[str, Any] = {"api_key": client.api_key}
    if client.base_url:
        args["base_url"] = client.base_url
    return args
