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


@pytest.mark.parametrize("backend", ["isal", "zlib"])
def test_the_same_voxels_saved_twice_are_the_same_bytes(tmp_path, ras_volume, monkeypatch,
                                                        backend):
    """A gzip header holds a time; written as the clock reads it, a regenerated phantom changed
    its content fingerprint (its first MiB's hash) every run and looked like a new volume."""
    import time

    from ct_spatial_bench.imaging import decode

    monkeypatch.setattr(decode, "gzip_backend", lambda: backend)
    first, second = tmp_path / "a.nii.gz", tmp_path / "b.nii.gz"
    NiftiDataset(filepath=str(first)).save(ras_volume)
    now = time.time()
    monkeypatch.setattr(time, "time", lambda: now + 3600.0)  # an hour later, as gzip sees it
    NiftiDataset(filepath=str(second)).save(ras_volume)
    assert first.read_bytes()[4:8] == b"\0\0\0\0"  # RFC 1952's MTIME field: no time
    assert first.read_bytes() == second.read_bytes()
