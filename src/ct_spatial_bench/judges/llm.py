"""An LLM judge: a provider client (``ct_spatial_bench.llm``) and a versioned judge prompt.

The provider (openai, gemini, qwen, openai_compatible) makes the calls; its settings (model,
base_url, key, concurrency, requests- and tokens-per-minute, retries, timeout) are the judge's
config beside ``name``, ``prompt`` and ``prompts_dir``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ct_spatial_bench.judges.base import CachedJudge, Judgement
from ct_spatial_bench.judges.prompts import DEFAULT_PROMPT, load_prompt
from ct_spatial_bench.records import FAILED


class LLMJudge(CachedJudge):
    """A judge behind a paid or remote API; ``name`` defaults to the provider's."""

    def __init__(self, provider: str, name: str | None = None, prompt: str = DEFAULT_PROMPT,
                 prompts_dir: str | Path | None = None, judge_empty_predictions: bool = False,
                 **client_config: Any) -> None:
        from ct_spatial_bench.llm.providers import create_client

        # True: an empty prediction is asked about like any other (protocol upstream), not
        # 'incorrect' without a call (judges/loop.py)
        self.judge_empty_predictions = bool(judge_empty_predictions)
        self.client = create_client(provider, client_config)
        self.name = name or provider
        self.prompt = load_prompt(prompt, prompts_dir)
        self.prompt_version = self.prompt.version

    @property
    def provider(self) -> str:
        return self.client.provider

    @property
    def model(self) -> str:
        return self.client.model

    @property
    def batch_size(self) -> int:
        return self.prompt.batch_size

    def __repr__(self) -> str:  # never shows the key
        return f"LLMJudge(name={self.name!r}, client={self.client!r})"

    def judge(self, question: str, answer: str, prediction: str) -> Judgement:
        """Judge one item now, with the engine's retries (no cache: use judges.engine for that)."""
        import asyncio

        from ct_spatial_bench.judges.loop import call_of, judgements_of
        from ct_spatial_bench.llm.engine import ask_with_retries
        from ct_spatial_bench.llm.limits import RateLimits

        async def run() -> Judgement:
            await self.client.open()
            try:
                call = call_of(self, [(question, answer, prediction)])
                completion, _ = await ask_with_retries(self.client, call, RateLimits())
                return judgements_of(self, completion, 1)[0]
            except Exception as exc:  # noqa: BLE001 - no reply is 'failed', never 'incorrect'
                from ct_spatial_bench.secrets import error_text

                return Judgement(verdict=FAILED, reason=error_text(exc))
            finally:
                await self.client.aclose()

        return asyncio.run(run())
