"""LLM providers by name, imported only when a run asks for one, and their API keys.

The same names serve the judges (``judging.judges``) and the curation steps
(``qa_generation.llm.provider``, ``qa_filtering.llm.provider``), and the keys come the same way:
``api_keys`` maps a conf credentials entry (``openai``, ``gemini``, ``dashscope``) to its key,
read from the environment by conf/base/credentials.yml.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

from ct_spatial_bench.llm.client import LLMClient

PROVIDERS: dict[str, str] = {
    "openai": "ct_spatial_bench.llm.openai_client:OpenAIClient",
    "gemini": "ct_spatial_bench.llm.gemini_client:GeminiClient",
    "qwen": "ct_spatial_bench.llm.qwen_client:QwenClient",
    "openai_compatible": "ct_spatial_bench.llm.openai_client:OpenAICompatibleClient",
}


def provider_class(name: str) -> type[LLMClient]:
    try:
        target = PROVIDERS[name]
    except KeyError:
        raise KeyError(f"unknown LLM provider {name!r}; registered: {sorted(PROVIDERS)}") from None
    module_name, class_name = target.split(":")
    return getattr(importlib.import_module(module_name), class_name)


def with_api_key(provider: str, config: Mapping[str, Any],
                 api_keys: Mapping[str, str | None] | None) -> tuple[dict[str, Any], str | None]:
    """(``config`` with its key filled from ``api_keys``, None), or (config, why it has none).

    A key set in ``config`` itself wins; a provider that needs no key (``openai_compatible``)
    never lacks one. The reason names the variable to set and the credentials entry reading it.
    """
    config = dict(config)
    cls = provider_class(provider)
    entry = cls.credentials_name
    if not entry or config.get("api_key"):
        return config, None
    config["api_key"] = (api_keys or {}).get(entry)
    if config["api_key"]:
        return config, None
    return config, (f"has no API key (set {cls.api_key_env}, read by conf credentials entry "
                    f"{entry!r})")


def create_client(provider: str, config: Mapping[str, Any] | None = None) -> LLMClient:
    """The ``provider`` client built from ``config`` (model, base_url, api_key, limits...)."""
    return provider_class(provider)(**dict(config or {}))
