"""Gemini through google-genai (default gemini-2.5-flash)."""

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
        # vertexai=False and the explicit base_url: GOOGLE_GENAI_USE_VERTEXAI or
        # GOOGLE_GEMINI_BASE_URL cannot send the key somewhere the key rule did not check.
        self._client = genai.Client(vertexai=False, api_key=self.api_key, http_options=options)

    async def aclose(self) -> None:
        await self._client.aio.aclose()

    async def complete(self, system: str | None, user: str, max_tokens: int,
                       json_mode: bool = False, schema: dict | None = None,
                       decoding: dict | None = None) -> Completion:
        """``decoding`` (None: this client's temperature, ``max_tokens`` and thinking budget) is
        exactly the generation settings sent; with ``{}``, no system text, no JSON mode and no
        schema the request carries no config at all (the SDK's and the model's defaults), as
        ``GenerativeModel(model).generate_content(prompt)`` sends."""
        import aiohttp
        from google.genai import errors, types

        structured: dict[str, Any] = {}
        if json_mode or schema:
            structured["response_mime_type"] = "application/json"
        if schema:  # Gemini's structured output: response_schema (its OpenAPI subset, which has
            # no additionalProperties; the parser refuses extra fields)
            structured["response_schema"] = _openapi_subset(schema)
        if decoding is None:
            config = types.GenerateContentConfig(
                system_instruction=system,
                temperature=self.temperature,
                max_output_tokens=max_tokens,
                thinking_config=(types.ThinkingConfig(thinking_budget=self.thinking_budget)
                                 if self.thinking_budget is not None else None),
                **structured,
            )
        else:
            settings = {_GEMINI_NAMES.get(k, k): v for k, v in decoding.items()}
            if system is not None:
                settings["system_instruction"] = system
            settings.update(structured)
            config = types.GenerateContentConfig(**settings) if settings else None
        try:
            response = await self._client.aio.models.generate_content(
                model=self.model, contents=user, config=config)
        except errors.APIError as exc:
            raise_for_status(exc.code, f"{exc.code} {exc.status}: {exc.message}",
                             getattr(exc.response, "headers", None))
        except aiohttp.ClientError as exc:
            raise TransientError(f"{type(exc).__name__}: {exc}") from exc
        except Exception as exc:
            undecodable = undecodable_reply(exc)
            if undecodable is None:
                raise
            return undecodable
        return _completion(response)


def _openapi_subset(schema: dict) -> dict:
    """A JSON schema without the keywords Gemini's ``response_schema`` does not take."""
    if isinstance(schema, dict):
        return {k: _openapi_subset(v) for k, v in schema.items() if k != "additionalProperties"}
    return schema


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
