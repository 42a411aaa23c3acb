"""Lingshu-7B (a Qwen2.5-VL model) on windowed CT slices, as CT-SpatialVQA ran it.

CT-SpatialVQA ``benchmarking/inference/medevalkit/run_custom_eval.py``: 32 slices sampled with
``round(linspace(0, n - 1, 32))``, each an RGB of the MedGemma windows (-1024..1024, -135..215,
0..80), the instruction first, each slice followed by ``SLICE i``, the question last, greedy.
Unlike that script we turn every volume to radiological display from its header first (it
transposed the stored array, so the view depended on the file's storage order).
"""

from __future__ import annotations

from ct_spatial_bench.models.cards import ModelCard
from ct_spatial_bench.models.adapters.hf_vlm import QUERY_LEAD, SLICE_BLOCK_PROMPT, HFVisionLanguageModel


class Lingshu(HFVisionLanguageModel):
    name = "lingshu"
    input_spec = "lingshu"
    description = "Lingshu-7B (Qwen2.5-VL): 32 windowed axial slices."
    card = ModelCard(
        title="Lingshu-7B", weights="lingshu-medical-mllm/Lingshu-7B",
        source="Mashrafi27/CT-SpatialVQA@e25374c: "
               "benchmarking/inference/medevalkit/run_custom_eval.py",
        prompt="as upstream: instruction, each slice then SLICE i, question",
        decoding="greedy, 256 new tokens (upstream's budget; its prompt asks for reasoning then "
                 "a final answer, so an answer may be cut: each prediction records "
                 "hit_token_limit, the report's run costs count them, n_hit_token_limit)",
        slice_order="superior first (top to bottom)",
        trained_on_ct_rate=None,
        deviations=("reoriented to display from the header; upstream transposed the stored "
                    "array",),
        status="end to end offline on a tiny random Qwen2.5-VL, float32 and bfloat16")
    config_examples = {"model_path": "lingshu-medical-mllm/Lingshu-7B, or a local folder"}
    generation_defaults = {"max_new_tokens": 256}
    prompt_defaults = {**SLICE_BLOCK_PROMPT,
                       "question": QUERY_LEAD + ". Provide concise reasoning and conclude with a "
                                   "final answer.\n\nQuestion: {question}"}
