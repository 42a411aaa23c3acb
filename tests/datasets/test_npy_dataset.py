import numpy as np

from ct_spatial_bench.datasets import NpyDataset


def test_save_then_load_round_trip(tmp_path):
    array = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    dataset = NpyDataset(filepath=str(tmp_path / "a" / "x.npy"))
    dataset.save(array)
    loaded = dataset.load()
    assert loaded.dtype == np.float32
    np.testing.assert_array_equal(loaded, array)


def test_memory_mapped_load(tmp_path):
    dataset = NpyDataset(filepath=str(tmp_path / "x.npy"), load_args={"mmap_mode": "r"})
    dataset.save(np.zeros((4, 4), dtype=np.int16))
    assert isinstance(dataset.load(), np.memmap)
