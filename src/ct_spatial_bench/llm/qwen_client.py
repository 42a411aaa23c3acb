"""Qwen through the dashscope SDK (default qwen-plus)."""

from __future__ import annotations

from typing import Any

from ct_spatial_bench.llm.client import (
    Completion,
    LLMClient,
    TransientError,
    raise_for_status,
    token_counts,
    undecodable_reply,
)


class QwenClient(LLMClient):
    """DashScope text generation, ``result_format="message"``.

    ``base_url`` is DashScope's HTTP API base (``.../api/v1``; default: what the SDK resolved from
    ``DASHSCOPE_HTTP_BASE_URL`` or its region), passed on every call as ``base_address`` rather
    than left to the global ``dashscope.base_http_api_url``.
    """

    provider = "qwen"
    default_model = "qwen-plus"
    credentials_name = "dashscope"
    api_key_env = "DASHSCOPE_API_KEY"

    async def open(self) -> None:
        import aiohttp

        # Our own session, closed in aclose(), sized to the client's concurrency.
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=max(self.concurrency, 1)))

    async def aclose(self) -> None:
        await self._session.close()

    async def complete(self, system: str | None, user: str, max_tokens: int,
                       json_mode: bool = False, schema: dict | None = None,
                       decoding: dict | None = None) -> Completion:
        """``decoding`` (None: this client's temperature and ``max_tokens``) is exactly the
        settings sent; ``system`` None sends the user message alone."""
        import aiohttp
        from dashscope import AioGeneration

        extra: dict[str, Any] = {"base_address": self.base_url}
        if json_mode or schema:  # DashScope's JSON mode; the schema is spelt out in the prompt
            extra["response_format"] = {"type": "json_object"}
        extra.update({"temperature": self.temperature, "max_tokens": max_tokens}
                     if decoding is None else decoding)
        messages = [{"role": "system", "content": system}] if system is not None else []
        try:
            response = await AioGeneration.call(
                model=self.model,
                messages=[*messages, {"role": "user", "content": user}],
                api_key=self.api_key,
                result_format="message",
                request_timeout=self.timeout_s,
                session=self._session,
                **extra,
            )
        except aiohttp.ClientError as exc:
            raise TransientError(f"{type(exc).__name__}: {exc}") from exc
        except Exception as exc:
            undecodable = undecodable_reply(exc)
            if undecodable is None:
                raise
            return undecodable
        if response.status_code != 200:
            raise_for_status(response.status_code,
                             f"{response.status_code} {response.code}: {response.message}",
                             getattr(response, "headers", None))
        return _completion(response)


def _completion(response: Any) -> Completion:
    usage = response.usage
    tokens = (token_counts(usage.get("input_tokens"), usage.get("output_tokens"),
                           usage.get("total_tokens")) if usage else {})
    choices = (response.output or {}).get("choices") or []
    if not choices:
        return Completion(text=(response.output or {}).get("text"), tokens=tokens)
    return Completion(text=choices[0]["message"].get("content"), tokens=tokens)
