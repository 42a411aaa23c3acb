"""Gemini through google-genai (default gemini-2.5-flash)."""

from __future__ import annotations

from typing import Any

from ct_spatial_bench.llm.client import (
    Completion,
    LLMClient,
    TransientError,
    raise_for_status,
    token_counts,
)


class GeminiClient(LLMClient):
    """generateContent with the system text as ``system_instruction``.

    ``thinking_budget`` defaults to 0: 2.5 Flash otherwise spends its output budget thinking
    and a one-word verdict can come back empty. ``base_url`` points the client elsewhere (tests).
    """

    provider = "gemini"
    default_model = "gemini-2.5-flash"
    credentials_name = "gemini"
    api_key_env = "GEMINI_API_KEY"

    def __init__(self, thinking_budget: int | None = 0, **config: Any) -> None:
        super().__init__(**config)
        self.thinking_budget = thinking_budget

    async def open(self) -> None:
        from google import genai
        from google.genai import types

        options = types.HttpOptions(
            base_url=self.base_url,
            timeout=int(self.timeout_s * 1000),  # milliseconds
            retry_options=types.HttpRetryOptions(attempts=1),  # the engine owns retrying
        )
        self._client = genai.Client(api_key=self.api_key, http_options=options)

    async def aclose(self) -> None:
        await self._client.aio.aclose()

    async def complete(self, system: str | None, user: str, max_tokens: int,
                       json_mode: bool = False, decoding: dict | None = None) -> Completion:
        """``decoding`` (None: this client's temperature, ``max_tokens`` and thinking budget) is
        exactly the generation settings sent; with ``{}``, no system text and no JSON mode the
        request carries no config at all (the SDK's and the model's defaults), as
        ``GenerativeModel(model).generate_content(prompt)`` sends."""
        import aiohttp
        from google.genai import errors, types

        if decoding is None:
            config = types.GenerateContentConfig(
                system_instruction=system,
                temperature=self.temperature,
                max_output_tokens=max_tokens,
                response_mime_type="application/json" if json_mode else None,
                thinking_config=(types.ThinkingConfig(thinking_budget=self.thinking_budget)
                                 if self.thinking_budget is not None else None),
            )
        else:
            settings = {_GEMINI_NAMES.get(k, k): v for k, v in decoding.items()}
            if system is not None:
                settings["system_instruction"] = system
            if json_mode:
                settings["response_mime_type"] = "application/json"
            config = types.GenerateContentConfig(**settings) if settings else None
        try:
            response = await self._client.aio.models.generate_content(
                model=self.model, contents=user, config=config)
        except errors.APIError as exc:
            raise_for_status(exc.code, f"{exc.code} {exc.status}: {exc.message}",
                             getattr(exc.response, "headers", None))
        except aiohttp.ClientError as exc:
            raise TransientError(f"{type(exc).__name__}: {exc}") from exc
        return _completion(response)


_GEMINI_NAMES = {"max_tokens": "max_output_tokens"}


def _completion(response: Any) -> Completion:
    usage = response.usage_metadata
    tokens = (token_counts(usage.prompt_token_count, usage.candidates_token_count,
                           usage.total_token_count) if usage else {})
    text = response.text
    if text:
        return Completion(text=text, tokens=tokens)
    # No text: blocked (prompt_feedback) or stopped for safety; keep why as the refusal.
    feedback = getattr(response, "prompt_feedback", None)
    reasons = [str(feedback.block_reason)] if feedback and feedback.block_reason else []
    reasons += [str(c.finish_reason) for c in (response.candidates or []) if c.finish_reason]
    return Completion(text=None, tokens=tokens, refusal=", ".join(reasons) or None)
