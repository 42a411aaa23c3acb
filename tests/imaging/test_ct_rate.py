import nibabel as nib
import numpy as np
import pytest

from ct_spatial_bench.imaging.ct_rate import (
    apply_ct_rate_metadata, ct_rate_relative_path, load_ct_rate_metadata, parse_spacing)
from ct_spatial_bench.imaging.orientation import voxel_spacing

METADATA = {"spacing": (0.341796875, 0.341796875, 1.5), "slope": 1.0, "intercept": -1024.0}


def _saved(tmp_path, data, affine, slope_inter=None, name="v.nii.gz"):
    image = nib.Nifti1Image(data, affine)
    if slope_inter is not None:
        image.header.set_slope_inter(*slope_inter)
    path = tmp_path / name
    nib.save(image, path)
    return nib.load(path)


def test_parse_spacing_reads_ct_rate_string_form():
    assert parse_spacing("[0.341796875, 0.341796875]") == [0.341796875, 0.341796875]
    assert parse_spacing("1.5") == [1.5]
    with pytest.raises(ValueError):
        parse_spacing("[0, 1]")


def test_metadata_csv_is_read_and_bad_rows_are_named(tmp_path):
    path = tmp_path / "validation_metadata.csv"
    path.write_text("VolumeName,XYSpacing,ZSpacing,RescaleSlope,RescaleIntercept\n"
                    'valid_1_a_1.nii.gz,"[0.75, 0.75]",1.0,1.0,-1024.0\n')
    meta = load_ct_rate_metadata(path)
    assert meta["valid_1_a_1.nii.gz"] == {"spacing": (0.75, 0.75, 1.0), "slope": 1.0,
                                          "intercept": -1024.0}
    path.write_text("VolumeName,XYSpacing,ZSpacing,RescaleSlope,RescaleIntercept\n"
                    'valid_2_a_1.nii.gz,"[oops]",1.0,1.0,-1024.0\n')
    with pytest.raises(ValueError, match=r"validation_metadata.csv:2 \(valid_2_a_1.nii.gz\)"):
        load_ct_rate_metadata(path)


def test_raw_volume_gets_spacing_and_rescale_from_metadata(tmp_path):
    stored = np.full((4, 4, 3), 1024, dtype=np.int16)  # raw values: 1024 stored = 0 HU
    stored[0, 0, 0] = 24  # -1000 HU once rescaled
    image = _saved(tmp_path, stored, np.eye(4))
    out, provenance = apply_ct_rate_metadata(image, METADATA)
    assert provenance == {"spacing_from": "metadata", "rescale_from": "metadata"}
    assert voxel_spacing(out) == pytest.approx(METADATA["spacing"])
    hu = np.asanyarray(out.dataobj)
    assert hu[1, 1, 1] == 0 and hu[0, 0, 0] == -1000 and hu.dtype == np.int16


def test_fixed_volume_with_header_scaling_is_not_rescaled_twice(tmp_path):
    stored = np.full((4, 4, 3), 1024, dtype=np.int16)
    affine = np.diag([0.5, 0.5, 2.0, 1.0])
    image = _saved(tmp_path, stored, affine, slope_inter=(1.0, -1024.0))
    out, provenance = apply_ct_rate_metadata(image, METADATA)
    assert provenance == {"spacing_from": "header", "rescale_from": "header"}
    assert voxel_spacing(out) == pytest.approx((0.5, 0.5, 2.0))
    assert np.asanyarray(out.dataobj)[0, 0, 0] == 0  # once, not 0 - 1024


def test_fixed_volume_storing_hu_without_scaling_fields_is_left_as_hu(tmp_path):
    hu = np.full((4, 4, 3), -1000, dtype=np.int16)
    hu[2, 2, 1] = 40
    image = _saved(tmp_path, hu, np.diag([0.7, 0.7, 1.25, 1.0]))
    out, provenance = apply_ct_rate_metadata(image, METADATA)
    assert provenance["rescale_from"] == "stored_hu"
    assert np.array_equal(np.asanyarray(out.dataobj), hu)


def test_metadata_spacing_keeps_axis_directions(tmp_path):
    lps = np.diag([-1.0, -1.0, 1.0, 1.0])  # unit spacing, LPS storage
    image = _saved(tmp_path, np.zeros((2, 2, 2), dtype=np.int16) + 1024, lps)
    out, _ = apply_ct_rate_metadata(image, METADATA)
    assert np.allclose(np.diag(out.affine)[:3], [-0.341796875, -0.341796875, 1.5])
    assert "".join(nib.aff2axcodes(out.affine)) == "LPS"


def test_without_metadata_the_image_is_returned_unchanged(tmp_path):
    image = _saved(tmp_path, np.zeros((2, 2, 2), dtype=np.int16), np.eye(4))
    out, provenance = apply_ct_rate_metadata(image, None)
    assert out is image and provenance["spacing_from"] == "header"


def test_ct_rate_relative_path():
    assert ct_rate_relative_path("valid_1_a_1.nii.gz") == "valid_1/valid_1_a/valid_1_a_1.nii.gz"
    with pytest.raises(ValueError):
        ct_rate_relative_path("phantom_3.nii.gz")
