"""The mask track's examples: the axial slice through the structure asked about, its outline in
red where the label map says it is (the patient's right on the image's left), the reference in
blue, and every model's reading beside it (issue 25)."""

from __future__ import annotations

import base64
import io

import nibabel as nib
import numpy as np
from PIL import Image

from ct_spatial_bench.records import QAItem
from ct_spatial_bench.reporting.mask_track import (
    EXAMPLES_TITLE,
    REFERENCE_RGB,
    SUBJECT_RGB,
    examples_to_show,
    mask_examples_html,
    outline_png,
)

# Stored LPS (affine diag(-1, -1, 2)): small i is the patient's right, small j anterior.
LPS = np.diag([-1.0, -1.0, 2.0, 1.0])


def _ct_and_masks():
    ct = np.full((60, 60, 9), -1000, dtype=np.int16)
    subject = np.zeros(ct.shape, dtype=np.uint8)
    subject[5:20, 5:20, 3:6] = 1  # right anterior, slices 3-5: the middle is 4
    reference = np.zeros(ct.shape, dtype=np.uint8)
    reference[40:55, 40:55, :] = 1  # left posterior, every slice
    ct[subject > 0] = 40
    ct[reference > 0] = 40
    return (nib.Nifti1Image(ct, LPS), nib.Nifti1Image(subject, LPS),
            nib.Nifti1Image(reference, LPS))


def _rgb(uri: str) -> np.ndarray:
    raw = base64.b64decode(uri.split(",", 1)[1])
    return np.asarray(Image.open(io.BytesIO(raw)).convert("RGB"))


def _where(pixels: np.ndarray, rgb: tuple[int, int, int]) -> np.ndarray:
    return np.argwhere((pixels == np.array(rgb, dtype=np.uint8)).all(axis=-1))


def test_the_subject_is_outlined_red_top_left_and_the_reference_blue_bottom_right():
    ct, subject, reference = _ct_and_masks()
    pixels = _rgb(outline_png(ct, [(subject, SUBJECT_RGB), (reference, REFERENCE_RGB)], size=120))
    assert pixels.shape == (120, 120, 3)  # 60 x 60 mm, scaled to 120
    red, blue = _where(pixels, SUBJECT_RGB), _where(pixels, REFERENCE_RGB)
    # 15 x 15 voxels of 1 mm at 2 pixels a millimetre: a 30-pixel square, its border only
    assert 80 <= len(red) <= 4 * 30 and 80 <= len(blue) <= 4 * 30
    assert red[:, 0].max() < 60 and red[:, 1].max() < 60  # rows from anterior, columns from right
    assert blue[:, 0].min() >= 60 and blue[:, 1].min() >= 60
    rows, cols = red[:, 0], red[:, 1]
    inside = pixels[rows.min() + 5: rows.max() - 5, cols.min() + 5: cols.max() - 5]
    assert inside.size and not _where(inside, SUBJECT_RGB).size  # an outline, not a fill


def test_a_mask_on_another_grid_is_not_drawn():
    ct, subject, _ = _ct_and_masks()
    moved = LPS.copy()
    moved[0, 3] = 3.0  # the same voxels three millimetres away
    shifted = nib.Nifti1Image(np.asanyarray(subject.dataobj), moved)
    assert outline_png(ct, [(shifted, SUBJECT_RGB)]) is None


def _items_and_scores():
    items = [QAItem(qa_id=q, case_id="case_01", question=f"Is {q} on the right?",
                    answer="Yes", meta={"subject": "lung nodule", "reference": "heart",
                                        "mirrored": q == "m"})
             for q in ("a", "b", "m")]
    scores = [{"qa_id": q, "model": model, "prediction": p, "read": read, "outcome": outcome}
              for q, model, p, read, outcome in [
                  ("a", "blind", "No", "No", "incorrect"),
                  ("a", "geometry", "Yes", "Yes", "correct"),
                  ("b", "blind", "No", "No", "incorrect"),
                  ("b", "geometry", "Maybe", None, "unreadable"),
                  ("m", "blind", "No", "No", "incorrect"),
                  ("a", "reference answers", "Yes", "Yes", "incorrect")]]
    return items, scores


def test_examples_are_the_asked_items_most_models_missed_first():
    items, scores = _items_and_scores()
    # b: missed by two models; a: by one (the reference row does not count); m is a mirror twin
    assert [i["qa_id"] for i in examples_to_show(items, scores)] == ["b", "a"]
    assert [i["qa_id"] for i in examples_to_show(items, scores, limit=1)] == ["b"]


def test_each_example_shows_its_picture_question_answer_and_every_models_reading():
    items, scores = _items_and_scores()
    ct, subject, _ = _ct_and_masks()
    pictures = {"a": outline_png(ct, [(subject, SUBJECT_RGB)]), "b": None}
    page = mask_examples_html(items, scores, lambda item: pictures[item["qa_id"]])[EXAMPLES_TITLE]
    assert page.count('<div class="case">') == 2
    assert page.count("data:image/png;base64,") == 1
    assert "volume or label map not available to the report" in page
    assert "lung nodule outlined in red, heart in blue" in page
    assert "<td>geometry</td><td>Maybe</td><td></td><td>unreadable</td>" in page
    assert "reference answers" not in page
    assert mask_examples_html(items, [], lambda item: None) == {}
