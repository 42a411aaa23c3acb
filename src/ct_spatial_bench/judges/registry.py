"""Judges by name, imported only when a run asks for them."""

from __future__ import annotations

import importlib
from typing import Any

from ct_spatial_bench.judges.base import Judge

JUDGE_REGISTRY: dict[str, str] = {
    "rule": "ct_spatial_bench.judges.rule:RuleJudge",
}


def create_judge(name: str, config: dict[str, Any] | None = None) -> Judge:
    try:
        target = JUDGE_REGISTRY[name]
    except KeyError:
        raise KeyError(f"unknown judge {name!r}; registered: {sorted(JUDGE_REGISTRY)}") from None
    module_name, class_name = target.split(":")
    judge_cls = getattr(importlib.import_module(module_name), class_name)
    return judge_cls(**(config or {}))
