"""Judges by name, imported only when a run asks for them.

``rule`` and ``offline`` run in process; every LLM provider of ``ct_spatial_bench.llm.providers``
(openai, gemini, qwen, openai_compatible) is also a judge, an ``LLMJudge`` on that provider.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from ct_spatial_bench.errors import ConfigurationError
from ct_spatial_bench.judges.base import Judge
from ct_spatial_bench.llm.providers import PROVIDERS

OFFLINE_JUDGES: dict[str, str] = {
    "rule": "ct_spatial_bench.judges.rule:RuleJudge",
    "offline": "ct_spatial_bench.judges.offline.judge:OfflineJudge",
}

logger = logging.getLogger(__name__)


class MissingJudgeKeyError(ConfigurationError, RuntimeError):
    """A configured judge has no API key and the configuration requires every judge."""


def judge_names() -> list[str]:
    return sorted([*OFFLINE_JUDGES, *PROVIDERS])


def create_judge(name: str, config: Mapping[str, Any] | None = None) -> Judge:
    """The judge registered as ``name`` built from ``config`` (an LLM judge's key included)."""
    config = dict(config or {})
    if name in PROVIDERS:
        from ct_spatial_bench.judges.llm import LLMJudge

        return LLMJudge(name, **config)
    if name not in OFFLINE_JUDGES:
        raise KeyError(f"unknown judge {name!r}; registered: {judge_names()}")
    module_name, class_name = OFFLINE_JUDGES[name].split(":")
    return getattr(importlib.import_module(module_name), class_name)(**config)


def build_judges(
    specs: Sequence[str | Mapping[str, Any]],
    api_keys: Mapping[str, str | None] | None = None,
    require_all: bool = False,
    defaults: Mapping[str, Any] | None = None,
    placeholder_key: str | None = None,
) -> list[Judge]:
    """The judges named in ``specs`` (a name, or ``{name, config}``), keys filled from ``api_keys``.

    ``api_keys`` maps a credentials entry (``openai``, ``gemini``, ``dashscope``) to its key. A
    judge whose key is absent is skipped with a warning naming it and the variable to set, unless
    ``require_all``, which makes it an error. ``defaults`` (e.g. ``prompts_dir``) go to every LLM
    judge whose config does not set them. ``placeholder_key`` stands in for an absent key where
    nothing will be sent (a dry run that only prices the calls).
    """
    from ct_spatial_bench.llm.providers import with_api_key

    judges, missing = [], []
    for spec in specs:
        name, config = (spec, {}) if isinstance(spec, str) else (spec["name"], spec.get("config"))
        config = dict(config or {})
        if name in PROVIDERS:
            config, no_key = with_api_key(name, {**(defaults or {}), **config}, api_keys)
            if no_key and placeholder_key:
                config["api_key"] = placeholder_key
            elif no_key:
                missing.append(f"judge {config.get('name', name)!r} {no_key}")
                continue
        judges.append(create_judge(name, config))
    for message in missing:
        if require_all:
            raise MissingJudgeKeyError(message + "; require_all_judges is true")
        logger.warning("%s: skipped", message)
    return judges
