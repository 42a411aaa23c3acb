import numpy as np
import pytest

from ct_spatial_bench.imaging.resample import center_pad_crop, crop_foreground
from ct_spatial_bench.imaging.slices import (
    depth_by_rule, montage, rgb_of_windows, sample_slice_indices,
)
from ct_spatial_bench.imaging.specs import InputSpec, apply_spec


def test_slice_sampling_rules():
    assert sample_slice_indices(5, 8) == [0, 1, 2, 3, 4]
    assert sample_slice_indices(100, 3) == [0, 50, 99]  # round(linspace) (MedEvalKit run)
    assert sample_slice_indices(171, 85, "medgemma")[:2] == [2, 4]  # round(i/85*(n-1)), i>=1
    assert sample_slice_indices(171, 85, "medgemma")[-1] == 170
    assert sample_slice_indices(9, 1) == [4] and sample_slice_indices(8, 1) == [4]
    with pytest.raises(ValueError, match="unknown slice sampling"):
        sample_slice_indices(10, 2, "random")


def test_rgb_of_three_windows_is_uint8():
    rgb = rgb_of_windows(np.array([-2000, 0, 40, 3000]), ((-1024, 1024), (-135, 215), (0, 80)))
    assert rgb.dtype == np.uint8 and rgb.shape == (4, 3)
    np.testing.assert_array_equal(rgb[0], [0, 0, 0])
    np.testing.assert_array_equal(rgb[1], [128, 98, 0])  # 0 HU: 127.5 rounds to 128
    np.testing.assert_array_equal(rgb[3], [255, 255, 255])


def test_radfm_depth_rule():
    assert [depth_by_rule(d, 4, 64) for d in (1, 6, 7, 30, 64, 500)] == [4, 4, 8, 28, 64, 64]


def test_center_pad_crop_and_foreground():
    arr = np.arange(5 * 4 * 2, dtype=float).reshape(5, 4, 2)
    out = center_pad_crop(arr, (3, 6, 2), pad_value=-1)
    assert out.shape == (3, 6, 2) and (out[:, 0] == -1).all()
    np.testing.assert_array_equal(out[:, 1:5], arr[1:4])
    volume = np.zeros((6, 6, 6))
    volume[2:4, 1:5, 3] = 1
    assert crop_foreground(volume).shape == (2, 4, 1)


def test_montage_tiles_row_by_row():
    tiles = np.stack([np.full((2, 3), i) for i in range(3)])
    grid = montage(tiles)
    assert grid.shape == (4, 6) and grid[0, 3] == 1 and grid[2, 0] == 2 and grid[2, 3] == 0


def test_axis_order_yxz_and_pad_crop_need_npy(ras_volume):
    out = apply_spec(ras_volume, InputSpec("r", orientation="LPS", axis_order="yxz",
                                           output="npy"))
    assert out.shape == (10, 12, 8)
    with pytest.raises(ValueError, match="need output 'npy'"):
        apply_spec(ras_volume, InputSpec("r", shape=(4, 4, 4), fit="pad_crop"))
    with pytest.raises(ValueError, match="must order x, y and z"):
        apply_spec(ras_volume, InputSpec("r", axis_order="xxz", output="npy"))
