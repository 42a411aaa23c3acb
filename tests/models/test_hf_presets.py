"""The Qwen2.5-VL, Qwen3-VL and InternVL3 presets of hf_vlm, each on a tiny random model of its
real transformers class, loaded by the adapter's own code in bfloat16 (their CUDA dtype): the
preset's image limits reach the processor, each slice reaches the model as one image in order,
every floating input is in the model's dtype."""

import numpy as np
import pytest
import torch
from support.adapter_helpers import (
    conf_spec,
    floating_dtypes,
    gpu_dtype,
    loaded_with_spy,
    tall_volume,
)
from support.tiny_vlm_folders import (
    INTERNVL_TILE,
    build_tiny_internvl3,
    build_tiny_qwen2_5_vl,
    build_tiny_qwen3_vl,
    without_video_processors,
)

from ct_spatial_bench.imaging.specs import apply_spec
from ct_spatial_bench.inference.loop import run_model
from ct_spatial_bench.models.adapters.hf_presets import (
    CT_SLICE_PIXELS,
    InternVL3,
    Qwen3VL,
    Qwen25VL,
)

pytestmark = pytest.mark.slow
BUILDERS = {Qwen25VL: build_tiny_qwen2_5_vl, Qwen3VL: build_tiny_qwen3_vl,
            InternVL3: build_tiny_internvl3}


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    with pytest.MonkeyPatch.context() as patch:
        without_video_processors(patch)
        return {cls: build(tmp_path_factory.mktemp(cls.name)) for cls, build in BUILDERS.items()}


def _run(cls, folder, monkeypatch, n_slices):
    without_video_processors(monkeypatch)
    adapter, seen = loaded_with_spy(cls, folder, monkeypatch, dtype=gpu_dtype(cls))
    spec = conf_spec(cls.input_spec)
    items = [{"qa_id": "v::0", "image_path": "v.nii.gz", "question": "which side"}]
    [pred] = run_model(adapter, items, lambda _: apply_spec(tall_volume(n_slices, 32), spec), {},
                       progress=False)
    assert pred["status"] == "ok", pred["error"]
    assert adapter.model.dtype == torch.bfloat16
    assert floating_dtypes(seen[0]) == {torch.bfloat16}
    return adapter, seen[0], pred, spec


@pytest.mark.parametrize("cls", [Qwen25VL, Qwen3VL], ids=["qwen2_5_vl", "qwen3_vl"])
def test_qwen_presets_send_32_slices_within_a_ct_slices_pixels(cls, folders, monkeypatch):
    adapter, sent, pred, spec = _run(cls, folders[cls], monkeypatch, 40)
    assert type(adapter.model).__name__ == {Qwen25VL: "Qwen2_5_VLForConditionalGeneration",
                                            Qwen3VL: "Qwen3VLForConditionalGeneration"}[cls]
    assert spec.slices == 32 and spec.rgb_windows == ((-1000, 1000),) * 3
    size = adapter.processor.image_processor.size  # transformers 5 keeps min/max pixels here
    assert size.longest_edge == CT_SLICE_PIXELS
    assert size.shortest_edge == {Qwen25VL: 28 * 28 * 4, Qwen3VL: 32 * 32 * 4}[cls]
    assert np.asarray(sent["image_grid_thw"]).shape == (32, 3)  # one image per slice
    assert pred["prompt"].count("<|vision_start|><|image_pad|><|vision_end|>") == 32


def test_internvl3_preset_sends_16_slices_one_tile_each(folders, monkeypatch):
    adapter, sent, pred, spec = _run(InternVL3, folders[InternVL3], monkeypatch, 40)
    assert type(adapter.model).__name__ == "InternVLForConditionalGeneration"
    assert spec.slices == 16
    # the checkpoint's processor tiles (crop_to_patches on); the preset turns it off
    assert adapter.processor.image_processor.crop_to_patches is False
    assert sent["pixel_values"].shape == (16, 3, INTERNVL_TILE, INTERNVL_TILE)
    assert pred["prompt"].count("<IMG_CONTEXT>") == 16
