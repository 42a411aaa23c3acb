"""The models the benchmark knows, by name; ``inference_<name>`` pipelines are generated from it.

Entries name their adapter class by import path, so listing the registry (what ``kedro`` does at
start-up) imports no model code, torch or transformers.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

from ct_spatial_bench.models.base import ModelAdapter


@dataclass(frozen=True)
class ModelEntry:
    name: str
    target: str  # "module:Class"
    input_spec: str | None  # preprocessing spec it reads; None: question text only
    description: str


MODEL_REGISTRY: dict[str, ModelEntry] = {
    entry.name: entry
    for entry in (
        ModelEntry(
            "blind",
            "ct_spatial_bench.models.blind:BlindBaseline",
            None,
            "Answers from the question text alone: the commonest answer to questions of the same "
            "form, leaving the item itself out. The floor any model that looks must beat.",
        ),
        ModelEntry(
            "geometry",
            "ct_spatial_bench.models.geometry:GeometryBaseline",
            "ras_hu",
            "Segments the volume by HU thresholds and connected components and answers from "
            "positions in patient space. The ceiling on the synthetic split.",
        ),
    )
}


def create_adapter(name: str) -> ModelAdapter:
    """Instantiate the adapter registered under ``name``."""
    try:
        entry = MODEL_REGISTRY[name]
    except KeyError:
        raise KeyError(f"unknown model {name!r}; registered: {sorted(MODEL_REGISTRY)}") from None
    module_name, class_name = entry.target.split(":")
    adapter_cls = getattr(importlib.import_module(module_name), class_name)
    return adapter_cls()
