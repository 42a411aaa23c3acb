import numpy as np
import pytest

from ct_spatial_bench.imaging.intensity import min_max, window
from ct_spatial_bench.imaging.orientation import voxel_spacing
from ct_spatial_bench.imaging.specs import InputSpec, apply_spec


def test_window_maps_hu_to_unit_range():
    out = window(np.array([-2000, -1000, 0, 1000, 3000]), -1000, 1000)
    np.testing.assert_allclose(out, [0, 0, 0.5, 1, 1])
    assert out.dtype == np.float32


def test_min_max_of_constant_volume_is_zero():
    assert not min_max(np.full((2, 2), 7)).any()


def test_native_hu_spec_keeps_int16_and_affine(ras_volume):
    out = apply_spec(ras_volume, InputSpec("ras_hu"))
    assert out.get_data_dtype() == np.int16
    np.testing.assert_allclose(out.affine, ras_volume.affine)


def test_spacing_window_and_shape(ras_volume):
    spec = InputSpec("x", spacing=(3.0, 3.0, 3.0), window=(-1000, 1000), shape=(4, 4, 4))
    out = apply_spec(ras_volume, spec)
    data = np.asanyarray(out.dataobj)
    assert data.shape == (4, 4, 4) and data.min() >= 0 and data.max() <= 1
    # the world box is kept: 12 voxels of 1.5 mm are 4 voxels of 4.5 mm
    assert voxel_spacing(out)[0] == pytest.approx(4.5)


def test_zyx_npy_puts_slices_first(ras_volume):
    spec = InputSpec("m", window=(-1000, 1000), axis_order="zyx", output="npy")
    out = apply_spec(ras_volume, spec)
    assert isinstance(out, np.ndarray) and out.shape == (8, 10, 12)


def test_unknown_spec_field_is_rejected():
    with pytest.raises(ValueError, match="unknown field"):
        InputSpec.from_params("bad", {"windw": [0, 1]})
