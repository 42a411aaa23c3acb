"""The case viewer shows the slice in the radiological convention, whatever the stored
orientation, beside the question, the reference and every model's answer and verdict."""

from __future__ import annotations

import base64
import io

import nibabel as nib
import numpy as np
from PIL import Image

from ct_spatial_bench.reporting.case_viewer import case_viewer_html, cases_to_show, slice_png


def _lps_volume_with_a_blob_right_anterior() -> nib.Nifti1Image:
    """Stored LPS (affine diag(-1, -1, 1)): voxel i grows toward the patient's left and j toward
    posterior, so small i, j is right and anterior (world x, y largest in RAS+)."""
    data = np.full((40, 40, 9), -1000, dtype=np.int16)
    data[2:12, 2:12, :] = 300
    return nib.Nifti1Image(data, np.diag([-1.0, -1.0, 2.0, 1.0]))


def _pixels(uri: str) -> np.ndarray:
    raw = base64.b64decode(uri.split(",", 1)[1])
    return np.asarray(Image.open(io.BytesIO(raw)).convert("L"), dtype=float)


def test_the_patients_right_is_on_the_images_left_and_anterior_on_top():
    image = _pixels(slice_png(_lps_volume_with_a_blob_right_anterior(), size=80))
    assert image.shape == (80, 80)
    third = image.shape[0] // 3
    assert image[third:, :third].mean() < image[:third, :third].mean()  # top-left is the blob
    assert image[10:20, 10:20].mean() > 200 and image[-third:, -third:].mean() < 30


def test_each_case_shows_question_reference_every_answer_and_verdict():
    volume = _lps_volume_with_a_blob_right_anterior()
    qa = [{"qa_id": "v1::0", "case_id": "v1.nii.gz", "image_path": "v1.nii.gz",
           "question": "Which side is the <mass>?", "answer": "Right"},
          {"qa_id": "v2::0", "case_id": "v2.nii.gz", "image_path": "v2.nii.gz",
           "question": "Upper or lower?", "answer": "Upper"}]
    preds = [{"qa_id": "v1::0", "model": "blind", "prediction": "Left", "status": "ok"},
             {"qa_id": "v1::0", "model": "geometry", "prediction": "Right", "status": "ok"},
             {"qa_id": "v2::0", "model": "blind", "prediction": "", "status": "error"}]
    decisions = [{"model": "blind", "qa_id": "v1::0", "decision": "incorrect"},
                 {"model": "geometry", "qa_id": "v1::0", "decision": "correct"},
                 {"model": "geometry", "qa_id": "v2::0", "decision": "incorrect"}]
    assert cases_to_show(decisions) == ["v1::0", "v2::0"]
    page = case_viewer_html(qa, preds, decisions, {"v1": lambda: volume})
    assert page.count('<div class="case">') == 2
    assert "Which side is the &lt;mass&gt;?" in page and "reference: Right" in page
    assert "<td>blind</td><td>Left</td><td>incorrect</td>" in page
    assert "<td>geometry</td><td>Right</td><td>correct</td>" in page
    assert "<td>blind</td><td> [error]</td><td>not judged</td>" in page
    assert page.count("data:image/png;base64,") == 1  # v2's volume is not there: said so
    assert "volume not available to the report" in page


def test_a_slice_reading_models_input_is_shown_as_its_slices_right_on_the_left():
    """What the model saw: the spec applied again (LPI, axis order zyx, RGB windows); every tile
    keeps the patient's right-anterior blob at the top left, as the stored LPS volume has it."""
    from ct_spatial_bench.imaging.specs import InputSpec
    from ct_spatial_bench.reporting.case_viewer import spec_png

    spec = InputSpec.from_params("four", {"orientation": "LPI", "slices": 4, "axis_order": "zyx",
                                          "rgb_windows": [[-1000, 400]] * 3, "output": "npy"})
    uri, caption = spec_png(_lps_volume_with_a_blob_right_anterior(), spec, size=80)
    assert caption == "four: 4 of the 4 slices it reads, top to bottom"
    grid = _pixels(uri)
    tile = grid.shape[0] // 2  # 2 x 2 tiles of 80 pixels each (twice the single image's size)
    assert grid.shape == (160, 160)
    for row in range(2):
        for col in range(2):
            cell = grid[row * tile:(row + 1) * tile, col * tile:(col + 1) * tile]
            assert cell[10:20, 10:20].mean() > 200  # the blob: 25% of each side, top left
            assert cell[-20:, -20:].mean() < 30


def test_a_model_without_an_image_is_said_to_read_the_question_only():
    from ct_spatial_bench.imaging.specs import InputSpec

    volume = _lps_volume_with_a_blob_right_anterior()
    qa = [{"qa_id": "v1::0", "case_id": "v1.nii.gz", "image_path": "v1.nii.gz",
           "question": "Which side?", "answer": "Right"}]
    preds = [{"qa_id": "v1::0", "model": m, "prediction": "Left", "status": "ok"}
             for m in ("blind", "geometry")]
    decisions = [{"model": m, "qa_id": "v1::0", "decision": "incorrect"}
                 for m in ("blind", "geometry")]
    specs = {"blind": None, "geometry": InputSpec.from_params("ras_hu", {"orientation": "RAS"})}
    page = case_viewer_html(qa, preds, decisions, {"v1": lambda: volume}, specs=specs)
    assert page.count("data:image/png;base64,") == 1
    assert "geometry saw ras_hu: axial, middle slice" in page
    assert "blind: no image (the question text only)" in page
