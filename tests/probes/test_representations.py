"""Input-representation ablations: views in display convention, each recorded in the predictions,
exercised with a slice-reading offline reader defined here."""

from __future__ import annotations

import numpy as np
import pytest

from ct_spatial_bench.models.base import Answer, ModelAdapter
from ct_spatial_bench.spatial.categories import LATERALITY


class SliceReader(ModelAdapter):
    """Reads only the image plane: the patient's right is the image's left (radiological
    display), so it answers from where the bright pixels sit across the columns."""

    name = "slice_reader"
    input_spec = "vlm_slices"

    def answer_one(self, image, question):
        bright = np.argwhere(np.asarray(image)[..., 0] > 100)
        column = bright[:, 2].mean() / image.shape[2]
        return Answer("Right" if column < 0.5 else "Left", question.text)

    def describe(self):
        return {"model_revision": "test", "generation": {}}


@pytest.mark.parametrize("view, shape", [
    ("axial", (8, 10, 12, 3)), ("coronal", (8, 8, 12, 3)), ("sagittal", (8, 8, 10, 3)),
    ("multiview", (24, 12, 12, 3)), ("montage", (1, 30, 36, 3)),
])
def test_views_are_display_oriented(ras_volume, view, shape):
    from ct_spatial_bench.imaging.orientation import reorient
    from ct_spatial_bench.imaging.views import render_view

    rendered = render_view(ras_volume, view, slices=8)
    assert rendered.shape == shape and rendered.dtype == np.uint8
    if view in ("axial", "coronal"):  # the block is on the patient's right: the image's left
        columns = np.argwhere(rendered[..., 0] > 100)[:, 2]
        assert columns.size
        assert columns.mean() < shape[2] / 2
        again = render_view(reorient(ras_volume, "PSR"), view, slices=8)
        np.testing.assert_array_equal(again, rendered)  # storage order does not matter


def test_overlay_tints_lung_and_soft_tissue(ras_volume):
    from ct_spatial_bench.imaging.views import render_view

    plain = render_view(ras_volume, "axial", slices=8)
    tinted = render_view(ras_volume, "axial", slices=8, overlay=True)
    assert (tinted[..., 0].astype(int) - tinted[..., 1]).max() > 50  # red soft tissue
    assert not np.array_equal(plain, tinted)


def test_each_representation_is_recorded_and_scored(ras_volume, tmp_path, monkeypatch):
    from ct_spatial_bench.models import registry
    from ct_spatial_bench.pipelines.probes.nodes import answer_representations, score_variants

    monkeypatch.setitem(registry.MODEL_REGISTRY, "slice_reader", registry.ModelEntry(
        "slice_reader", f"{__name__}:SliceReader", "vlm_slices", "test reader"))
    qa = [{"qa_id": "v::0", "case_id": "v", "image_path": "v", "question": "Which side?",
           "answer": "Right", "categories": [LATERALITY], "source": "t", "meta": {}}]
    params = {"checkpoint_dir": str(tmp_path / "ck"), "representations": {"variants": [
        {"view": "axial", "slices": 8}, {"view": "coronal", "slices": 8, "overlay": True}]}}
    inference = {"model": "slice_reader"}
    preprocessing = {"specs": {"vlm_slices": {"rgb_windows": [[-1000, 1000]] * 3}}}
    preds = answer_representations(qa, {"v": lambda: ras_volume}, inference, preprocessing,
                                   params)
    assert [(p["variant"], p["representation"]["overlay"], p["prediction"]) for p in preds] == [
        ("axial-8", False, "Right"), ("coronal-8+overlay", True, "Right")]
    table = score_variants(qa, [], [], {"judges": ["rule"], "cache_path": None}, {}, None,
                           slice_reader=preds)
    overall = table[table["category"] == "All"]
    assert list(overall["variant"]) == ["axial-8", "coronal-8+overlay"]
    assert list(overall["accuracy"]) == [1.0, 1.0]
    assert set(overall["view"]) == {"axial", "coronal"}
