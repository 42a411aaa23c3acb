"""Judges behind any OpenAI-compatible server (vLLM, llama.cpp, a local model): a base_url is required."""

from __future__ import annotations

from typing import Any

from ct_spatial_bench.judges.openai_judge import OpenAIJudge


class OpenAICompatibleJudge(OpenAIJudge):
    """``OpenAIJudge`` pointed at ``base_url`` (e.g. ``http://localhost:8000/v1``) with a named model.

    Local servers usually take any key, so none is required; one given in the config is sent.
    """

    provider = "openai_compatible"
    default_model = None
    credentials_name = None
    api_key_env = None

    def __init__(self, base_url: str | None = None, api_key: str | None = None,
                 **config: Any) -> None:
        if not base_url:
            raise ValueError("judge 'openai_compatible' needs a 'base_url', "
                             "e.g. http://localhost:8000/v1")
        super().__init__(base_url=base_url, api_key=api_key or "EMPTY", **config)
