"""MedGemma 1.5 4B on CT, as Google's CT notebook prompts it.

Google-Health/medgemma ``notebooks/high_dimensional_ct_hugging_face.ipynb``: at most 85 axial
slices sampled as ``round(i / 85 * (n - 1))`` for i = 1..85, each an RGB of three HU windows
(-1024..1024, -135..215, 0..80, rounded to uint8), one user message: the instruction, then each
slice followed by ``SLICE i``, then the query; ``AutoModelForImageTextToText``, greedy decoding.
The notebook's instruction names "the center of the abdomen"; ours says chest CT, nothing else.
"""

from __future__ import annotations

from ct_spatial_bench.models.cards import ModelCard
from ct_spatial_bench.models.adapters.hf_vlm import QUERY_LEAD, SLICE_BLOCK_PROMPT, HFVisionLanguageModel


class MedGemma(HFVisionLanguageModel):
    name = "medgemma"
    input_spec = "medgemma"
    description = "MedGemma 1.5 4B: up to 85 axial slices, RGB of three HU windows."
    card = ModelCard(
        title="MedGemma 1.5 4B", weights="google/medgemma-1.5-4b-it (gated)",
        source="Google-Health/medgemma@d89262c: notebooks/high_dimensional_ct_hugging_face.ipynb",
        prompt="instruction; each slice then SLICE i; the notebook's query lead + question",
        decoding="greedy, 512 new tokens",
        slice_order="superior first (top to bottom)",
        trained_on_ct_rate=None,
        deviations=("512 new tokens; the notebook allows 2000",
                    "processor loaded without use_fast=True (the notebook's fast processor)",
                    "instruction says chest CT where the notebook says abdomen",
                    "slices passed losslessly (the notebook's default encodes JPEG)"),
        status="end to end offline on a tiny random Gemma 3, float32 and bfloat16")
    config_examples = {"model_path": "google/medgemma-1.5-4b-it, or a local folder"}
    generation_defaults = {"max_new_tokens": 512}
    prompt_defaults = {**SLICE_BLOCK_PROMPT,
                       "question": QUERY_LEAD + " concisely.\n\nQuestion: {question}"}
