"""Named presets of the generic ``hf_vlm`` adapter for the 2D VLMs users ask for most.

Each loads through ``AutoProcessor`` + ``AutoModelForImageTextToText`` and so renders its own
checkpoint's chat template; a preset fixes the image limits given to its processor and reads an
input spec whose slice count keeps the prompt well inside the model's context. The limits and
budgets are our choices (no author ran these models on CT volumes); the prompt is hf_vlm's.
"""

from __future__ import annotations

from ct_spatial_bench.models.hf_vlm import HFVisionLanguageModel

CT_SLICE_PIXELS = 512 * 512  # a CT slice's own size: no upscaling past it


class Qwen25VL(HFVisionLanguageModel):
    """Qwen2.5-VL: 28-pixel merged patches, so a 512x512 slice is about 324 tokens and 32 slices
    about 10k of its 32k context."""

    name = "qwen2_5_vl"
    input_spec = "qwen_vl_slices"
    config_examples = {"model_path": "Qwen/Qwen2.5-VL-7B-Instruct, or a local folder"}
    processor_defaults = {"min_pixels": 28 * 28 * 4, "max_pixels": CT_SLICE_PIXELS}


class Qwen3VL(HFVisionLanguageModel):
    """Qwen3-VL: 32-pixel merged patches (256 tokens a 512x512 slice), pixel limits given as the
    image processor's ``size`` (shortest_edge / longest_edge are pixel counts there)."""

    name = "qwen3_vl"
    input_spec = "qwen_vl_slices"
    config_examples = {"model_path": "Qwen/Qwen3-VL-8B-Instruct, or a local folder"}
    processor_defaults = {"size": {"shortest_edge": 32 * 32 * 4, "longest_edge": CT_SLICE_PIXELS}}


class InternVL3(HFVisionLanguageModel):
    """InternVL3 (the ``-hf`` checkpoints): one 448x448 tile per slice, 256 tokens, no crops into
    further tiles, so 16 slices take about 4k tokens."""

    name = "internvl3"
    input_spec = "internvl3_slices"
    config_examples = {"model_path": "OpenGVLab/InternVL3-8B-hf, or a local folder"}
    processor_defaults = {"crop_to_patches": False}
