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
    # Qwen as upstream's judge called it: the openai SDK on DashScope's compatible-mode endpoint
    "qwen_openai": "ct_spatial_bench.llm.openai_client:QwenOpenAIClient",
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

    A key named in ``config`` itself wins: ``api_key``, or ``api_key_env`` (the environment
    variable holding the key for this server). The provider's credentials key goes only to the
    provider's own host: with a ``base_url`` elsewhere (a proxy, a vLLM server) it is not sent
    unless named so (``secrets.key_may_go_to``). A provider that needs no key
    (``openai_compatible``) never lacks one. The reason names the variable to set and the
    credentials entry reading it.
    """
    import os

    from ct_spatial_bench.llm.endpoints import (SDK_BASE_URL_ENV, effective_base_url,
                                                without_credentials)
    from ct_spatial_bench.secrets import key_may_go_to, register_secret_variable

    config = dict(config)
    cls = provider_class(provider)
    entry = cls.credentials_name
    variable = config.pop("api_key_env", None)
    if variable:  # whatever its name and length, its value is redacted from everything kept
        register_secret_variable(variable)
    if variable == cls.api_key_env:  # the provider's own key, spelt out: the host rule applies
        variable = None
    if variable:
        config["api_key"] = config.get("api_key") or os.environ.get(variable) or None
        if config["api_key"] or not entry:
            return config, None
        return config, f"has no API key (set {variable}, named by its api_key_env)"
    if not entry or config.get("api_key"):
        return config, None
    url = effective_base_url(provider, config.get("base_url"))
    if not key_may_go_to(provider, url, key_named_for_url=False):
        origin = "base_url" if config.get("base_url") else SDK_BASE_URL_ENV.get(provider)
        return config, (f"would call {without_credentials(url)!r} (set by {origin}), not "
                        f"{provider}'s own API: its {cls.api_key_env} is not sent there (name the "
                        "key for that server with api_key_env)")
    config["api_key"] = (api_keys or {}).get(entry)
    if config["api_key"]:
        return config, None
    return config, (f"has no API key (set {cls.api_key_env}, read by conf credentials entry "
                    f"{entry!r})")


def create_client(provider: str, config: Mapping[str, Any] | None = None) -> LLMClient:
    """The ``provider`` client built from ``config`` (model, base_url, api_key, limits...)."""
    return provider_class(provider)(**dict(config or {}))
