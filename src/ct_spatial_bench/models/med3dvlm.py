"""Med3DVLM-Qwen-2.5-7B, loaded with the authors' remote code.

mirthAI/Med3DVLM ``src/demo/demo.py``, ``src/dataset/mllm_dataset.py`` and ``src/eval/
eval_vqa.py``: a 128x256x256 (D, H, W) volume min-max scaled to 0..1 (``src/utils/
m3d_cap_data_prepare_128.py``: foreground crop, then resize), given as ``(1, 1, 128, 256, 256)``;
the prompt is ``"<im_patch>" * proj_out_num`` (the model config's, 256 if absent), a space, the
question; ``model.generate(images=..., inputs=...)``, greedy in the authors' VQA evaluation
(their demo samples at temperature 1, which we do not). Same calling convention as M3D.
"""

from __future__ import annotations

from ct_spatial_bench.models.m3d import M3DLaMed


class Med3DVLM(M3DLaMed):
    name = "med3dvlm"
    input_spec = "med3dvlm"
    description = "Med3DVLM-Qwen-2.5-7B: 1x128x256x256 min-max volume."
    config_examples = {"model_path": "MagicXin/Med3DVLM-Qwen-2.5-7B, or a local folder"}
