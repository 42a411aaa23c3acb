"""Lingshu end to end on a tiny random Qwen2.5-VL loaded by the adapter's own code.

What reaches ``generate`` is checked against CT-SpatialVQA's ``run_custom_eval.py``, recomputed
here by hand: 32 slices at ``round(linspace(0, n - 1, 32))``, each the RGB of the MedGemma
windows (in radiological display, where upstream transposed the stored array); the instruction
first, each image followed by ``SLICE i``, the question last; greedy decoding.
"""

import numpy as np
import pytest
from support.adapter_helpers import (
    check_mirroring,
    check_slice_prompt,
    conf_spec,
    display_slices,
    loaded_with_spy,
    notebook_rgb,
    tall_volume,
)
from support.tiny_vlm_folders import (
    QWEN_MERGE,
    build_tiny_qwen2_5_vl,
    pixels_as_uint8,
    qwen_patches_to_images,
    without_video_processor,
)

from ct_spatial_bench.imaging.specs import apply_spec
from ct_spatial_bench.inference.loop import run_model
from ct_spatial_bench.models.adapters.lingshu import Lingshu

pytestmark = pytest.mark.slow
SPEC = conf_spec("lingshu")


@pytest.fixture(scope="module")
def tiny_qwen_dir(tmp_path_factory):
    with pytest.MonkeyPatch.context() as patch:
        without_video_processor(patch)
        return build_tiny_qwen2_5_vl(tmp_path_factory.mktemp("tiny_qwen2_5_vl"))


def _loaded(folder, monkeypatch):
    without_video_processor(monkeypatch)
    return loaded_with_spy(Lingshu, folder, monkeypatch)


def _images(adapter, sent):
    """The 0..255 RGB slices the model received, ``(n, H, W, 3)``."""
    images = qwen_patches_to_images(sent["pixel_values"], sent["image_grid_thw"])
    return np.stack([pixels_as_uint8(image, adapter.processor.image_processor)
                     for image in images]).transpose(0, 2, 3, 1)


def test_spec_is_upstreams():
    assert SPEC.slices == 32 and SPEC.slice_sampling == "linspace"
    assert SPEC.rgb_windows == ((-1024, 1024), (-135, 215), (0, 80))


def test_loads_qwen2_5_vl_and_sends_32_windowed_slices_in_order(tiny_qwen_dir, monkeypatch):
    volume = tall_volume(40)
    adapter, seen = _loaded(tiny_qwen_dir, monkeypatch)
    assert type(adapter.model).__name__ == "Qwen2_5_VLForConditionalGeneration"
    items = [{"qa_id": "v::0", "image_path": "v.nii.gz", "question": "which side"}]
    [pred] = run_model(adapter, items, lambda _: apply_spec(volume, SPEC), {}, progress=False)
    assert pred["status"] == "ok", pred["error"]

    [sent] = seen
    assert sent["image_grid_thw"].tolist() == [[1, 4, 4]] * 32  # 16x16 pixels, 4x4 patches
    wanted = np.round(np.linspace(0, 40 - 1, 32)).astype(int)  # upstream's sample_indices
    np.testing.assert_array_equal(_images(adapter, sent),
                                  notebook_rgb(display_slices(volume)[wanted]))
    pad = adapter.processor.tokenizer.convert_tokens_to_ids("<|image_pad|>")
    assert int((sent["input_ids"] == pad).sum()) == 32 * 16 // QWEN_MERGE**2
    check_slice_prompt(pred["prompt"], "<|vision_start|><|image_pad|><|vision_end|>", 32,
                       "conclude with a final answer.\n\nQuestion: which side<|im_end|>\n"
                       "<|im_start|>assistant\n")
    assert sent["do_sample"] is False and sent["num_beams"] == 1
    assert pred["generation"] == {"do_sample": False, "num_beams": 1, "max_new_tokens": 2}


def test_a_mirrored_patient_reaches_qwen2_5_vl_mirrored(tiny_qwen_dir, monkeypatch):
    adapter, seen = _loaded(tiny_qwen_dir, monkeypatch)
    check_mirroring(adapter, seen, SPEC, lambda sent: _images(adapter, sent), n_slices=6)
