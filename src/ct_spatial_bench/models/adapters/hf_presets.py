"""Named presets of the generic ``hf_vlm`` adapter for the 2D VLMs users ask for most.

Each loads through ``AutoProcessor`` + ``AutoModelForImageTextToText`` and so renders its own
checkpoint's chat template; a preset fixes the image limits given to its processor and reads an
input spec whose slice count keeps the prompt well inside the model's context. The limits and
budgets are our choices (no author ran these models on CT volumes); the prompt is hf_vlm's.
"""

from __future__ import annotations

from ct_spatial_bench.models.cards import ModelCard
from ct_spatial_bench.models.adapters.hf_vlm import HFVisionLanguageModel

CT_SLICE_PIXELS = 512 * 512  # a CT slice's own size: no upscaling past it


def preset_card(**facts) -> ModelCard:
    """A preset's card: what every preset shares (hf_vlm's prompt and decoding, the checkpoint's
    own processor and template, no stated CT-RATE training) plus ``facts`` of its own."""
    return ModelCard(
        source="- (hf_vlm preset: the checkpoint's own processor and chat template)",
        prompt="hf_vlm's: instruction stating the display convention, the slices, the question",
        decoding="greedy, 256 new tokens", slice_order="superior first (top to bottom)",
        trained_on_ct_rate=None, **facts)


class Qwen25VL(HFVisionLanguageModel):
    """Qwen2.5-VL: 28-pixel merged patches, so a 512x512 slice is about 324 tokens and 32 slices
    about 10k of its 32k context."""

    name = "qwen2_5_vl"
    input_spec = "qwen_vl_slices"
    description = "Qwen2.5-VL preset of hf_vlm: 32 slices up to 512x512 pixels."
    config_examples = {"model_path": "Qwen/Qwen2.5-VL-7B-Instruct, or a local folder"}
    processor_defaults = {"min_pixels": 28 * 28 * 4, "max_pixels": CT_SLICE_PIXELS}
    card = preset_card(
        title="Qwen2.5-VL", weights="Qwen/Qwen2.5-VL-3B/7B/32B/72B-Instruct",
        deviations=("32 slices, max_pixels 512x512: our budget and limits (no authors' CT "
                    "recipe)",),
        status="end to end offline on a tiny random Qwen2.5-VL, bfloat16")


class Qwen3VL(HFVisionLanguageModel):
    """Qwen3-VL: 32-pixel merged patches (256 tokens a 512x512 slice), pixel limits given as the
    image processor's ``size`` (shortest_edge / longest_edge are pixel counts there)."""

    name = "qwen3_vl"
    input_spec = "qwen_vl_slices"
    description = "Qwen3-VL preset of hf_vlm: 32 slices up to 512x512 pixels."
    config_examples = {"model_path": "Qwen/Qwen3-VL-8B-Instruct, or a local folder"}
    processor_defaults = {"size": {"shortest_edge": 32 * 32 * 4, "longest_edge": CT_SLICE_PIXELS}}
    card = preset_card(
        title="Qwen3-VL", weights="Qwen/Qwen3-VL-2B/4B/8B/32B-Instruct",
        deviations=("32 slices, longest_edge 512x512 pixels: our budget and limits (no authors' CT "
                    "recipe)",),
        status="end to end offline on a tiny random Qwen3-VL (Qwen-VL chat layout), "
               "bfloat16")


class InternVL3(HFVisionLanguageModel):
    """InternVL3 (the ``-hf`` checkpoints): one 448x448 tile per slice, 256 tokens, no crops into
    further tiles, so 16 slices take about 4k tokens."""

    name = "internvl3"
    input_spec = "internvl3_slices"
    description = "InternVL3 (-hf) preset of hf_vlm: 16 slices, one 448-pixel tile each."
    config_examples = {"model_path": "OpenGVLab/InternVL3-8B-hf, or a local folder"}
    processor_defaults = {"crop_to_patches": False}
    card = preset_card(
        title="InternVL3", weights="OpenGVLab/InternVL3-1B/2B/8B/14B/38B-hf",
        deviations=("16 slices, one 448-pixel tile each: our budget and limits (no authors' CT "
                    "recipe)",),
        status="end to end offline on a tiny random InternVL (Qwen2 text model), "
               "bfloat16")
