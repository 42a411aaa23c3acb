"""The transformers adapters on the GPU path, run on CPU: loaded with the dtype they pick on CUDA
(``dtype``/``torch_dtype`` as passed to ``from_pretrained``), every floating input moved to it, a
whole ``generate`` run through (a mismatch raises, as on a GPU). The Qwen3-VL and InternVL3
presets run the same check in test_hf_presets.py.

bfloat16 runs on CPU for every op these tiny models use (the SigLIP and Qwen vision towers'
convolutions included), so no test falls back to float16.
"""

import pytest
import torch
from support.adapter_helpers import floating_dtypes, gpu_dtype, loaded_with_spy, tall_volume
from support.tiny_vlm_folders import (
    build_tiny_gemma3,
    build_tiny_qwen2_5_vl,
    without_video_processor,
)

from ct_spatial_bench.imaging.specs import InputSpec, apply_spec
from ct_spatial_bench.inference.loop import run_model
from ct_spatial_bench.models.adapters.hf_presets import Qwen25VL
from ct_spatial_bench.models.adapters.hf_vlm import HFVisionLanguageModel
from ct_spatial_bench.models.adapters.lingshu import Lingshu
from ct_spatial_bench.models.adapters.medgemma import MedGemma

pytestmark = pytest.mark.slow
SLICES = InputSpec("s", orientation="LPI", slices=4, axis_order="zyx", output="npy",
                   rgb_windows=((-1024, 1024), (-135, 215), (0, 80)))


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    with pytest.MonkeyPatch.context() as patch:
        without_video_processor(patch)
        return {"gemma3": build_tiny_gemma3(tmp_path_factory.mktemp("gemma3")),
                "qwen2_5_vl": build_tiny_qwen2_5_vl(tmp_path_factory.mktemp("qwen2_5_vl"))}


CASES = [(HFVisionLanguageModel, "llava"), (MedGemma, "gemma3"), (Lingshu, "qwen2_5_vl"),
         (Qwen25VL, "qwen2_5_vl")]


@pytest.mark.parametrize("cls,folder", CASES, ids=[c.name for c, _ in CASES])
def test_runs_in_the_dtype_it_picks_on_cuda(cls, folder, folders, tiny_llava_dir, monkeypatch):
    without_video_processor(monkeypatch)
    path = tiny_llava_dir if folder == "llava" else folders[folder]
    dtype = gpu_dtype(cls)
    assert dtype == "bfloat16"  # none of them names another
    adapter, seen = loaded_with_spy(cls, path, monkeypatch, dtype=dtype)
    assert adapter.model.dtype == torch.bfloat16
    items = [{"qa_id": "v::0", "image_path": "v.nii.gz", "question": "which side"}]
    [pred] = run_model(adapter, items, lambda _: apply_spec(tall_volume(6), SLICES), {},
                       progress=False)
    assert pred["status"] == "ok", pred["error"]
    assert floating_dtypes(seen[0]) == {torch.bfloat16}
    assert pred["efficiency"]["dtype"] == "bfloat16"
