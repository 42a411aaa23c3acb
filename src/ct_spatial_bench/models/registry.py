"""The models the benchmark knows, by name; ``inference_<name>`` pipelines are generated from it.

Each entry is derived from its adapter class, which declares ``name``, ``input_spec``,
``description`` and its capabilities (``answer_prior``, ``reads_slices``, ``loads_weights``,
``served``, ``baseline``) once; nothing outside the registry lists models by name. Adapter modules import nothing
heavy at module level (torch, transformers and SDKs are imported in ``load``), so building the
registry at ``kedro`` start-up costs a few imports of plain Python.

Adding a model: a ``ModelAdapter`` subclass in any importable module, one block
``<name>: {inference: {config: {...}}}`` in ``parameters_inference.yml`` (only what differs from
``inference_defaults``: ``model`` and ``checkpoint`` derive from the name), and the class named
in ``BUILT_IN`` (models shipped here), or, for a model that lives outside this package, in the
environment variable ``CT_SPATIAL_BENCH_MODELS`` (``module:Class``, comma-separated) or in an
entry point of group ``ct_spatial_bench.models`` of an installed package.
"""

from __future__ import annotations

import importlib
import os
from dataclasses import dataclass

from ct_spatial_bench.errors import ConfigurationError
from ct_spatial_bench.models.base import ModelAdapter

PLUGIN_VARIABLE = "CT_SPATIAL_BENCH_MODELS"
ENTRY_POINT_GROUP = "ct_spatial_bench.models"

BUILT_IN = (
    "ct_spatial_bench.baselines.blind:BlindBaseline",
    "ct_spatial_bench.baselines.geometry:GeometryBaseline",
    # The 3D and 2D VLMs under test (models/README.md: sources, inputs, prompts, status).
    "ct_spatial_bench.models.adapters.m3d:M3DLaMed",
    "ct_spatial_bench.models.adapters.med3dvlm:Med3DVLM",
    "ct_spatial_bench.models.adapters.ct_chat:CTChat",
    "ct_spatial_bench.models.adapters.merlin:MerlinReport",
    "ct_spatial_bench.models.adapters.radfm:RadFM",
    "ct_spatial_bench.models.adapters.medgemma:MedGemma",
    "ct_spatial_bench.models.adapters.vila_m3:VilaM3",
    "ct_spatial_bench.models.adapters.lingshu:Lingshu",
    "ct_spatial_bench.models.adapters.hulu_med:HuluMed",
    "ct_spatial_bench.models.adapters.hf_presets:Qwen25VL",
    "ct_spatial_bench.models.adapters.hf_presets:Qwen3VL",
    "ct_spatial_bench.models.adapters.hf_presets:InternVL3",
    "ct_spatial_bench.models.adapters.hf_vlm:HFVisionLanguageModel",
    "ct_spatial_bench.models.adapters.openai_vlm:OpenAIVisionLanguageModel",
)


@dataclass(frozen=True)
class ModelEntry:
    name: str
    target: str  # "module:Class"
    input_spec: str | None  # preprocessing spec it reads; None: question text only
    description: str
    # Reads the catalog's ``blind_answer_prior`` (QA items of cases it is not asked about).
    answer_prior: bool = False
    # Reads 2D slices rendered from the volume: its input representation can be ablated.
    reads_slices: bool = False
    # Loads weights of its own: the quantization ablation applies.
    loads_weights: bool = False
    # Asked through a server's API (no local weights, no GPU of ours).
    served: bool = False
    # Needs no weights, keys or GPU: every plain ``kedro run`` evaluates it.
    baseline: bool = False


def load_target(target: str) -> type[ModelAdapter]:
    """The class a ``module:Class`` path names; a clear error when it is not an adapter."""
    module_name, _, class_name = target.partition(":")
    try:
        cls = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError, ValueError) as exc:
        raise ConfigurationError(f"model adapter {target!r} (registry.BUILT_IN or "
                                 f"${PLUGIN_VARIABLE}) cannot be imported: {exc}") from None
    if not (isinstance(cls, type) and issubclass(cls, ModelAdapter) and cls.name):
        raise ConfigurationError(f"{target!r} is not a ModelAdapter subclass with a name")
    return cls


def entry_of(target: str) -> ModelEntry:
    cls = load_target(target)
    return ModelEntry(cls.name, target, cls.input_spec, cls.description, cls.answer_prior,
                      cls.reads_slices, cls.loads_weights, cls.served, cls.baseline)


def plugin_targets() -> list[str]:
    """Adapter classes named outside this package: the environment variable, then entry
    points."""
    from importlib.metadata import entry_points

    named = [t.strip() for t in os.environ.get(PLUGIN_VARIABLE, "").split(",") if t.strip()]
    return named + [point.value for point in entry_points(group=ENTRY_POINT_GROUP)]


def build_registry(targets: tuple[str, ...] | list[str] | None = None) -> dict[str, ModelEntry]:
    registry: dict[str, ModelEntry] = {}
    for target in targets if targets is not None else (*BUILT_IN, *plugin_targets()):
        entry = entry_of(target)
        if entry.name in registry and registry[entry.name].target != target:
            raise ConfigurationError(f"model name {entry.name!r} is declared by both "
                             f"{registry[entry.name].target} and {target}")
        registry[entry.name] = entry
    return registry


MODEL_REGISTRY: dict[str, ModelEntry] = build_registry()


def baselines(registry: dict[str, ModelEntry] | None = None) -> tuple[str, ...]:
    """The models declared ``baseline``, in registry order: what a plain run evaluates."""
    return tuple(name for name, entry in (registry or MODEL_REGISTRY).items() if entry.baseline)


def adapter_class(name: str) -> type[ModelAdapter]:
    """The adapter class registered under ``name`` (its module imports nothing heavy)."""
    try:
        entry = MODEL_REGISTRY[name]
    except KeyError:
        raise KeyError(f"unknown model {name!r}; registered: {sorted(MODEL_REGISTRY)}") from None
    return load_target(entry.target)


def create_adapter(name: str) -> ModelAdapter:
    """Instantiate the adapter registered under ``name``."""
    return adapter_class(name)()


def check_configured(name: str, config: dict) -> type[ModelAdapter]:
    """The adapter class of ``name``; stops before any work when the model lacks settings it
    cannot guess (e.g. its checkpoint)."""
    from ct_spatial_bench.models.common import (
        ModelNotConfigured, missing_settings, not_configured_message,
    )

    cls = adapter_class(name)
    missing = missing_settings(cls, config)
    if missing:
        raise ModelNotConfigured(not_configured_message(name, missing, cls.config_examples))
    return cls
