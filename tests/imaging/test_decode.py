"""decode_volume / decode_file: the fast gzip path reads what nibabel reads, scaled to HU once,
integers kept where the header allows."""

from __future__ import annotations

import numpy as np
import pytest

from ct_spatial_bench.imaging.decode import decode_file, decode_volume, gzip_backend, read_header

BACKENDS = ["nibabel"] + (["isal"] if gzip_backend() == "isal" else [])


def _save(path, data, slope=None, inter=None, dtype=None):
    import nibabel as nib

    affine = np.diag([-0.7, -0.7, 2.0, 1.0])
    image = nib.Nifti1Image(data, affine)
    if dtype is not None:
        image.header.set_data_dtype(dtype)
    if slope is not None:
        image.header.set_slope_inter(slope, inter)
    nib.save(image, str(path))
    return path


@pytest.mark.parametrize("backend", BACKENDS)
def test_int16_stays_int16_and_equals_nibabel(tmp_path, backend):
    import nibabel as nib

    data = np.random.default_rng(0).integers(-1024, 3000, size=(7, 6, 5)).astype(np.int16)
    path = _save(tmp_path / "a.nii.gz", data)
    for decoded in (decode_file(path, backend), decode_volume(nib.load(str(path)), backend)):
        array = np.asanyarray(decoded.dataobj)
        assert array.dtype == np.int16
        np.testing.assert_array_equal(array, data)
        np.testing.assert_allclose(decoded.affine, nib.load(str(path)).affine)


@pytest.mark.parametrize("backend", BACKENDS)
def test_slope_and_intercept_are_applied_once(tmp_path, backend):
    import nibabel as nib

    stored = np.arange(2 * 3 * 4, dtype=np.uint16).reshape(2, 3, 4) * 50
    path = _save(tmp_path / "b.nii.gz", stored, slope=1, inter=-1024, dtype=np.uint16)
    expected = nib.load(str(path)).get_fdata()
    whole = np.asanyarray(decode_file(path, backend).dataobj)
    np.testing.assert_array_equal(whole, expected)
    if backend == "isal":
        assert np.issubdtype(whole.dtype, np.integer)  # whole-number scaling: no float cast
    fractional = _save(tmp_path / "c.nii.gz", stored, slope=0.5, inter=-1024.25, dtype=np.uint16)
    np.testing.assert_allclose(np.asanyarray(decode_file(fractional, backend).dataobj),
                               nib.load(str(fractional)).get_fdata(), rtol=1e-6)


def test_big_endian_and_truncated_files(tmp_path):
    import gzip

    import nibabel as nib

    data = np.arange(60, dtype=np.int16).reshape(3, 4, 5)
    image = nib.Nifti1Image(data.astype(">i2"), np.eye(4))
    path = tmp_path / "be.nii.gz"
    nib.save(image, str(path))
    np.testing.assert_array_equal(np.asanyarray(decode_file(path).dataobj), data)
    assert read_header(path).get_data_shape() == (3, 4, 5)
    if gzip_backend() == "isal":
        raw = gzip.decompress(path.read_bytes())
        cut = tmp_path / "cut.nii.gz"
        cut.write_bytes(gzip.compress(raw[:-10]))
        with pytest.raises(ValueError, match="truncated"):
            decode_file(cut, "isal")
