import numpy as np
import pytest
from kedro.io.core import DatasetError

from ct_spatial_bench.datasets import NiftiDataset


def test_save_then_load_keeps_voxels_affine_and_dtype(tmp_path, ras_volume):
    dataset = NiftiDataset(filepath=str(tmp_path / "vol.nii.gz"))
    dataset.save(ras_volume)
    loaded = dataset.load()
    assert loaded.get_data_dtype() == np.int16
    np.testing.assert_array_equal(np.asanyarray(loaded.dataobj), np.asanyarray(ras_volume.dataobj))
    np.testing.assert_allclose(loaded.affine, ras_volume.affine)


def test_array_affine_pair_is_accepted(tmp_path):
    dataset = NiftiDataset(filepath=str(tmp_path / "pair.nii"))
    dataset.save((np.ones((2, 3, 4), dtype=np.float32), np.eye(4)))
    assert dataset.load().shape == (2, 3, 4)


def test_read_only(tmp_path, ras_volume):
    with pytest.raises(DatasetError, match="read-only"):
        NiftiDataset(filepath=str(tmp_path / "v.nii.gz"), read_only=True).save(ras_volume)
