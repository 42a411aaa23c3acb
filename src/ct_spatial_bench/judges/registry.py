"""Judges by name, imported only when a run asks for them."""

from __future__ import annotations

import importlib
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from ct_spatial_bench.judges.base import Judge

JUDGE_REGISTRY: dict[str, str] = {
    "rule": "ct_spatial_bench.judges.rule:RuleJudge",
    "offline": "ct_spatial_bench.judges.offline:OfflineJudge",
    "openai": "ct_spatial_bench.judges.openai_judge:OpenAIJudge",
    "gemini": "ct_spatial_bench.judges.gemini_judge:GeminiJudge",
    "qwen": "ct_spatial_bench.judges.qwen_judge:QwenJudge",
    "openai_compatible": "ct_spatial_bench.judges.openai_compatible:OpenAICompatibleJudge",
}

logger = logging.getLogger(__name__)


class MissingJudgeKeyError(RuntimeError):
    """A configured judge has no API key and the configuration requires every judge."""


def _judge_class(name: str) -> type:
    try:
        target = JUDGE_REGISTRY[name]
    except KeyError:
        raise KeyError(f"unknown judge {name!r}; registered: {sorted(JUDGE_REGISTRY)}") from None
    module_name, class_name = target.split(":")
    return getattr(importlib.import_module(module_name), class_name)


def build_judges(
    specs: Sequence[str | Mapping[str, Any]],
    api_keys: Mapping[str, str | None] | None = None,
    require_all: bool = False,
    defaults: Mapping[str, Any] | None = None,
) -> list[Judge]:
    """The judges named in ``specs`` (a name, or ``{name, config}``), keys filled from ``api_keys``.

    ``api_keys`` maps a credentials entry (``openai``, ``gemini``, ``dashscope``) to its key. A
    judge whose key is absent is skipped with a warning naming it and the variable to set, unless
    ``require_all``, which makes it an error. ``defaults`` (e.g. ``prompts_dir``) go to every LLM
    judge whose config does not set them.
    """
    from ct_spatial_bench.judges.llm import LLMJudge

    judges, missing = [], []
    for spec in specs:
        name, config = (spec, {}) if isinstance(spec, str) else (spec["name"], spec.get("config"))
        config = dict(config or {})
        judge_cls = _judge_class(name)
        if issubclass(judge_cls, LLMJudge):
            config = {**(defaults or {}), **config}
            entry = judge_cls.credentials_name
            if entry and not config.get("api_key"):
                config["api_key"] = (api_keys or {}).get(entry)
                if not config["api_key"]:
                    label = config.get("name", name)
                    missing.append(f"judge {label!r} has no API key (set {judge_cls.api_key_env}, "
                                   f"read by conf credentials entry {entry!r})")
                    continue
        judges.append(judge_cls(**config))
    for message in missing:
        if require_all:
            raise MissingJudgeKeyError(message + "; require_all_judges is true")
        logger.warning("%s: skipped", message)
    return judges


def create_judge(name: str, config: dict[str, Any] | None = None) -> Judge:
    return _judge_class(name)(**(config or {}))
