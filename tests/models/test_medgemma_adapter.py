"""MedGemma end to end on a tiny random Gemma 3 loaded by the adapter's own code.

What reaches ``generate`` is checked against Google's CT notebook, recomputed here by hand: up
to 85 slices sampled as ``round(i / 85 * (n - 1))``, top to bottom in radiological display, each
the RGB of three HU windows; the instruction first, each image followed by ``SLICE i``, the
question last; greedy decoding.
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
from support.tiny_vlm_folders import GEMMA_TOKENS_PER_IMAGE, build_tiny_gemma3, pixels_as_uint8

from ct_spatial_bench.imaging.specs import apply_spec
from ct_spatial_bench.inference.loop import run_model
from ct_spatial_bench.models.adapters.medgemma import MedGemma

pytestmark = pytest.mark.slow
SPEC = conf_spec("medgemma")


@pytest.fixture(scope="module")
def tiny_gemma3_dir(tmp_path_factory):
    return build_tiny_gemma3(tmp_path_factory.mktemp("tiny_gemma3"))


def _images(adapter, sent):
    """The 0..255 RGB slices the model received, ``(n, H, W, 3)``."""
    return pixels_as_uint8(sent["pixel_values"],
                           adapter.processor.image_processor).transpose(0, 2, 3, 1)


def test_spec_is_the_notebooks():
    assert SPEC.slices == 85 and SPEC.slice_sampling == "medgemma"
    assert SPEC.rgb_windows == ((-1024, 1024), (-135, 215), (0, 80))
    assert SPEC.orientation == "LPI" and SPEC.axis_order == "zyx"


def test_loads_gemma3_and_sends_85_windowed_slices_in_the_notebooks_order(tiny_gemma3_dir,
                                                                           monkeypatch):
    volume = tall_volume(90)
    adapter, seen = loaded_with_spy(MedGemma, tiny_gemma3_dir, monkeypatch)
    assert type(adapter.model).__name__ == "Gemma3ForConditionalGeneration"
    items = [{"qa_id": "v::0", "image_path": "v.nii.gz", "question": "which side"}]
    [pred] = run_model(adapter, items, lambda _: apply_spec(volume, SPEC), {}, progress=False)
    assert pred["status"] == "ok", pred["error"]

    [sent] = seen
    assert sent["pixel_values"].shape == (85, 3, 16, 16)
    wanted = [round(i / 85 * (90 - 1)) for i in range(1, 86)]  # the notebook's sampling
    np.testing.assert_array_equal(_images(adapter, sent),
                                  notebook_rgb(display_slices(volume)[wanted]))
    soft_token = adapter.processor.tokenizer.image_token_id
    assert int((sent["input_ids"] == soft_token).sum()) == 85 * GEMMA_TOKENS_PER_IMAGE
    assert sent["token_type_ids"].shape == sent["input_ids"].shape  # Gemma 3's image mask
    check_slice_prompt(pred["prompt"], "<start_of_image>", 85,
                       "answer the question below concisely.\n\nQuestion: which side"
                       "<end_of_turn>\n<start_of_turn>model\n")
    assert sent["do_sample"] is False and sent["num_beams"] == 1
    assert pred["generation"] == {"do_sample": False, "num_beams": 1, "max_new_tokens": 2}
    assert pred["model_revision"].endswith("@local") and pred["efficiency"]["parameters"] > 0


def test_a_mirrored_patient_reaches_gemma3_mirrored(tiny_gemma3_dir, monkeypatch):
    adapter, seen = loaded_with_spy(MedGemma, tiny_gemma3_dir, monkeypatch)
    check_mirroring(adapter, seen, SPEC, lambda sent: _images(adapter, sent), n_slices=12)
