"""Med3DVLM-Qwen-2.5-7B, loaded with the authors' remote code.

mirthAI/Med3DVLM ``src/demo/demo.py``, ``src/dataset/mllm_dataset.py`` and ``src/eval/
eval_vqa.py``: a 128x256x256 (D, H, W) volume in 0..1 (``src/utils/m3d_cap_data_prepare_128.py``
min-maxes windowed JPEG stacks; raw CT follows M3D's percentile rule, the ``med3dvlm`` spec),
foreground crop, then resize, given as ``(1, 1, 128, 256, 256)``;
the prompt is ``"<im_patch>" * proj_out_num`` (the model config's, 256 if absent), a space, the
question; ``model.generate(images=..., inputs=...)``. Their VQA evaluation and demo sample
(``scripts/eval/eval_vqa.sh`` passes ``--do_sample``, temperature 1); we decode greedily. Same
calling convention as M3D.
"""

from __future__ import annotations

from ct_spatial_bench.models.cards import FLIP_AUGMENTATION, ModelCard
from ct_spatial_bench.models.adapters.m3d import M3DLaMed


class Med3DVLM(M3DLaMed):
    name = "med3dvlm"
    input_spec = "med3dvlm"
    description = "Med3DVLM-Qwen-2.5-7B: 1x128x256x256 min-max volume."
    card = ModelCard(
        title="Med3DVLM", weights="MagicXin/Med3DVLM-Qwen-2.5-7B",
        source="mirthAI/Med3DVLM@cbbd633: src/demo/demo.py, src/dataset/mllm_dataset.py, "
               "src/eval/eval_vqa.py, scripts/eval/eval_vqa.sh",
        prompt='"<im_patch>" * proj_out_num + " " + question; generate(images, inputs)',
        decoding="greedy, 256 new tokens",
        slice_order="inferior first (M3D's data pipeline, assumed)",
        trained_on_ct_rate=False,
        laterality_caveat=FLIP_AUGMENTATION.format(files="src/dataset/mllm_dataset.py"),
        deviations=(
            "its own VQA eval samples (scripts/eval/eval_vqa.sh passes --do_sample, "
            "temperature 1); we decode greedily",
            "intensity percentile(0.5, 99.5) (M3D's raw-CT rule; it ships none of its own)",
            "Qwen's tokenizer adds no BOS, so the image features overwrite the first question "
            "token, as in its training",
        ),
        status="tested offline: its own loading code on a tiny trust_remote_code folder "
               "(Qwen2 base), float32 and bfloat16")
    config_examples = {"model_path": "MagicXin/Med3DVLM-Qwen-2.5-7B, or a local folder"}
