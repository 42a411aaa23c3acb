"""hf_vlm end to end on a tiny random LLaVA (MedGemma and Lingshu, which share its code, run on
tiny Gemma 3 and Qwen2.5-VL in their own test files)."""

import numpy as np
import pytest
from support.adapter_helpers import lps_copy, mirrored

from ct_spatial_bench.imaging.specs import InputSpec, apply_spec
from ct_spatial_bench.inference.loop import run_model
from ct_spatial_bench.models.adapters.hf_vlm import HFVisionLanguageModel

pytestmark = pytest.mark.slow
SLICES = InputSpec("s", orientation="LPI", slices=4, slice_sampling="medgemma", axis_order="zyx", output="npy",
                   rgb_windows=((-1024, 1024), (-135, 215), (0, 80)))


def _loaded(cls, folder, **config):
    adapter = cls()
    adapter.load({"model_path": str(folder), "device": "cpu", "dtype": "float32",
                  "generation": {"max_new_tokens": 3}, **config})
    return adapter


def test_runs_end_to_end_greedy_with_image_tokens(tiny_llava_dir, ras_volume, monkeypatch):
    adapter = _loaded(HFVisionLanguageModel, tiny_llava_dir)
    seen = {}
    generate = adapter.model.generate

    def spy(**kwargs):
        seen.update(kwargs)
        return generate(**kwargs)

    monkeypatch.setattr(adapter.model, "generate", spy)
    items = [{"qa_id": "v::0", "image_path": "v.nii.gz", "question": "which side"}]
    [pred] = run_model(adapter, items, lambda _: apply_spec(ras_volume, SLICES), {},
                       progress=False)
    assert pred["status"] == "ok", pred["error"]
    assert pred["prompt"].count("<image>") == 4 and "which side" in pred["prompt"]
    assert pred["generation"]["do_sample"] is False and seen["do_sample"] is False
    assert seen["pixel_values"].shape == (4, 3, 16, 16)
    assert pred["efficiency"]["parameters"] > 0 and pred["efficiency"]["device"] == "cpu"
    assert pred["model_revision"].endswith("@local")


def test_slices_reach_the_model_in_display_order(tiny_llava_dir, ras_volume):
    adapter = _loaded(HFVisionLanguageModel, tiny_llava_dir)
    images = [np.asarray(i) for i in adapter.images_of(apply_spec(ras_volume, SLICES))]
    flipped = [np.asarray(i) for i in adapter.images_of(apply_spec(mirrored(ras_volume), SLICES))]
    stored_lps = [np.asarray(i) for i in adapter.images_of(apply_spec(lps_copy(ras_volume), SLICES))]
    assert images[0].dtype == np.uint8 and images[0].shape == (10, 12, 3)  # rows y, columns x
    for a, b, c in zip(images, flipped, stored_lps):
        np.testing.assert_array_equal(b, a[:, ::-1])  # a mirrored patient is mirrored on screen
        np.testing.assert_array_equal(c, a)  # storage order does not change what is shown
    # the block on the patient's right (high RAS x) is on the image's left
    bright = np.argwhere(np.stack(images)[..., 1] > 100)
    assert len(bright) and bright[:, 2].max() < 6


def test_montage_layout_sends_one_image(tiny_llava_dir, ras_volume):
    adapter = _loaded(HFVisionLanguageModel, tiny_llava_dir, prompt={"layout": "montage"})
    [picture] = adapter.images_of(apply_spec(ras_volume, SLICES))
    assert picture.size == (24, 20)  # 2x2 tiles of 12x10
