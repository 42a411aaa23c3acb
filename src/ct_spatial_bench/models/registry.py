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
    # Reads the catalog's ``blind_answer_prior`` (QA items of cases it is not asked about).
    answer_prior: bool = False


MODEL_REGISTRY: dict[str, ModelEntry] = {
    entry.name: entry
    for entry in (
        ModelEntry(
            "blind",
            "ct_spatial_bench.models.blind:BlindBaseline",
            None,
            "Answers from the question text alone: the commonest answer to questions of the same "
            "form in cases it is not asked about. The floor any model that looks must beat.",
            answer_prior=True,
        ),
        ModelEntry(
            "geometry",
            "ct_spatial_bench.models.geometry:GeometryBaseline",
            "ras_hu",
            "Segments the volume by HU thresholds and connected components and answers from "
            "positions in patient space. The ceiling on the synthetic split.",
        ),
        # The 3D and 2D VLMs under test (models/README.md: sources, inputs, prompts, status).
        ModelEntry("m3d", "ct_spatial_bench.models.m3d:M3DLaMed", "m3d",
                   "M3D-LaMed (Phi-3-4B / Llama-2-7B): 1x32x256x256 min-max volume."),
        ModelEntry("med3dvlm", "ct_spatial_bench.models.med3dvlm:Med3DVLM", "med3dvlm",
                   "Med3DVLM-Qwen-2.5-7B: 1x128x256x256 min-max volume."),
        ModelEntry("ct_chat", "ct_spatial_bench.models.ct_chat:CTChat", "ct_chat",
                   "CT-CHAT: CTViT tokens of a 240x480x480 volume at 1.5/0.75/0.75 mm."),
        ModelEntry("merlin", "ct_spatial_bench.models.merlin:MerlinReport", "merlin",
                   "Merlin report generator: RAS 224x224x160 at 1.5x1.5x3 mm, HU to 0..1."),
        ModelEntry("radfm", "ct_spatial_bench.models.radfm:RadFM", "radfm",
                   "RadFM: 3x512x512xD, D a multiple of 4 up to 64, min-max."),
        ModelEntry("medgemma", "ct_spatial_bench.models.medgemma:MedGemma", "medgemma",
                   "MedGemma 1.5 4B: up to 85 axial slices, RGB of three HU windows."),
        ModelEntry("vila_m3", "ct_spatial_bench.models.vila_m3:VilaM3", "ras_hu",
                   "VILA-M3 with the VISTA3D expert's overlay on the middle axial slice."),
        ModelEntry("lingshu", "ct_spatial_bench.models.lingshu:Lingshu", "lingshu",
                   "Lingshu-7B (Qwen2.5-VL): 32 windowed axial slices."),
        ModelEntry("hulu_med", "ct_spatial_bench.models.hulu_med:HuluMed", "hulu_med",
                   "Hulu-Med (7B/14B/32B): 160 axial slices, each min-maxed, as video frames."),
        ModelEntry("qwen2_5_vl", "ct_spatial_bench.models.hf_presets:Qwen25VL", "qwen_vl_slices",
                   "Qwen2.5-VL preset of hf_vlm: 32 slices up to 512x512 pixels."),
        ModelEntry("qwen3_vl", "ct_spatial_bench.models.hf_presets:Qwen3VL", "qwen_vl_slices",
                   "Qwen3-VL preset of hf_vlm: 32 slices up to 512x512 pixels."),
        ModelEntry("internvl3", "ct_spatial_bench.models.hf_presets:InternVL3", "internvl3_slices",
                   "InternVL3 (-hf) preset of hf_vlm: 16 slices, one 448-pixel tile each."),
        ModelEntry("hf_vlm", "ct_spatial_bench.models.hf_vlm:HFVisionLanguageModel", "vlm_slices",
                   "Any transformers image-text-to-text model on slices or a montage."),
        ModelEntry("openai_vlm", "ct_spatial_bench.models.openai_vlm:OpenAIVisionLanguageModel",
                   "vlm_slices", "Any OpenAI-compatible chat endpoint with images."),
    )
}


def adapter_class(name: str) -> type:
    """The adapter class registered under ``name`` (its module imports nothing heavy)."""
    try:
        entry = MODEL_REGISTRY[name]
    except KeyError:
        raise KeyError(f"unknown model {name!r}; registered: {sorted(MODEL_REGISTRY)}") from None
    module_name, class_name = entry.target.split(":")
    return getattr(importlib.import_module(module_name), class_name)


def create_adapter(name: str) -> ModelAdapter:
    """Instantiate the adapter registered under ``name``."""
    return adapter_class(name)()


def check_configured(name: str, config: dict) -> None:
    """Stop before any work when a model lacks settings it cannot guess (e.g. its checkpoint)."""
    from ct_spatial_bench.models.common import (
        ModelNotConfigured, missing_settings, not_configured_message,
    )

    cls = adapter_class(name)
    missing = missing_settings(cls, config)
    if missing:
        raise ModelNotConfigured(
            not_configured_message(name, missing, getattr(cls, "config_examples", {})))
