"""ModelInputsDataset: save-then-load round trips; present partitions are kept, never recomputed;
a changed spec's partitions are deleted; a killed write's temporary file is no partition."""

from __future__ import annotations

import json

import numpy as np
import pytest

from ct_spatial_bench.datasets import ModelInputsDataset
from ct_spatial_bench.imaging.batch import SpecPartitions


def _dataset(folder, **kwargs) -> ModelInputsDataset:
    return ModelInputsDataset(path=str(folder), dataset="ct_spatial_bench.datasets.NpyDataset",
                              filename_suffix=".npy", **kwargs)


def test_save_then_load_round_trip_with_the_spec_fingerprint(tmp_path):
    arrays = {"case_0": np.arange(6.0).reshape(2, 3), "sub/case_1": np.ones((2, 2), np.int16)}
    _dataset(tmp_path).save(SpecPartitions(arrays, fingerprint="abc"))
    loaded = _dataset(tmp_path).load()
    assert isinstance(loaded, SpecPartitions) and loaded.fingerprint == "abc"
    assert sorted(loaded) == ["case_0", "sub/case_1"]
    for key, array in arrays.items():
        np.testing.assert_array_equal(loaded[key](), array)
    assert json.loads((tmp_path / ".spec.json").read_text()) == {"fingerprint": "abc"}


def test_present_partitions_are_kept_and_their_lazy_values_never_called(tmp_path):
    _dataset(tmp_path).save(SpecPartitions({"a": np.zeros(3)}, fingerprint="abc"))
    written = (tmp_path / "a.npy").stat().st_mtime_ns

    def recompute():
        raise AssertionError("a present partition was computed again")

    _dataset(tmp_path).save(SpecPartitions({"a": recompute, "b": lambda: np.ones(3)},
                                           fingerprint="abc"))
    assert (tmp_path / "a.npy").stat().st_mtime_ns == written
    np.testing.assert_array_equal(_dataset(tmp_path).load()["b"](), np.ones(3))


def test_another_fingerprint_deletes_the_partitions_of_the_old_one(tmp_path):
    _dataset(tmp_path).save(SpecPartitions({"a": np.zeros(3), "b": np.zeros(3)},
                                           fingerprint="old"))
    _dataset(tmp_path).save(SpecPartitions({"a": np.ones(2)}, fingerprint="new"))
    loaded = _dataset(tmp_path).load()
    assert loaded.fingerprint == "new" and sorted(loaded) == ["a"]
    np.testing.assert_array_equal(loaded["a"](), np.ones(2))


def test_unstamped_partitions_are_stale_to_a_fingerprinted_save(tmp_path):
    np.save(tmp_path / "x.npy", np.zeros(2))  # made by an unknown spec
    assert _dataset(tmp_path).load().fingerprint is None
    _dataset(tmp_path).save(SpecPartitions({"y": np.ones(2)}, fingerprint="abc"))
    assert sorted(_dataset(tmp_path).load()) == ["y"]


def test_a_plain_dict_saves_without_touching_the_stamp(tmp_path):
    _dataset(tmp_path).save(SpecPartitions({"a": np.zeros(1)}, fingerprint="abc"))
    _dataset(tmp_path).save({"b": np.ones(1)})
    loaded = _dataset(tmp_path).load()
    assert loaded.fingerprint == "abc" and sorted(loaded) == ["a", "b"]


def test_an_interrupted_writes_temporary_file_is_not_a_partition(tmp_path):
    _dataset(tmp_path).save(SpecPartitions({"a": np.zeros(1)}, fingerprint="abc"))
    (tmp_path / ".b.npy.k2j3.npy").write_bytes(b"half")  # atomic_destination's temporary
    assert sorted(_dataset(tmp_path).load()) == ["a"]
    _dataset(tmp_path).save(SpecPartitions({"b": np.ones(1)}, fingerprint="abc"))
    np.testing.assert_array_equal(_dataset(tmp_path).load()["b"](), np.ones(1))


def test_many_partitions_are_saved_on_threads(tmp_path):
    arrays = {f"case_{i}": np.full((4, 4), i, np.float32) for i in range(12)}
    _dataset(tmp_path, save_threads=4).save(SpecPartitions(arrays, fingerprint="abc"))
    loaded = _dataset(tmp_path).load()
    assert sorted(loaded) == sorted(arrays)
    for key, array in arrays.items():
        np.testing.assert_array_equal(loaded[key](), array)


def test_nifti_partitions_round_trip_with_their_affine(tmp_path, ras_volume):
    dataset = ModelInputsDataset(path=str(tmp_path), dataset="ct_spatial_bench.datasets.NiftiDataset",
                                 filename_suffix=".nii.gz")
    dataset.save(SpecPartitions({"case": ras_volume}, fingerprint="abc"))
    loaded = dataset.load()["case"]()
    np.testing.assert_array_equal(np.asanyarray(loaded.dataobj), np.asanyarray(ras_volume.dataobj))
    np.testing.assert_allclose(loaded.affine, ras_volume.affine)


def test_an_empty_folder_loads_as_an_error_like_any_partitioned_dataset(tmp_path):
    from kedro.io.core import DatasetError

    with pytest.raises(DatasetError, match="No partitions"):
        _dataset(tmp_path / "none").load()
