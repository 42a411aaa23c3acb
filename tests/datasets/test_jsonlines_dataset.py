import pytest
from kedro.io.core import DatasetError

from ct_spatial_bench.datasets import JsonLinesDataset


def test_save_then_load_round_trip(tmp_path):
    rows = [{"qa_id": "a::0", "x": [1, 2]}, {"qa_id": "a::1", "text": "é ü"}]
    dataset = JsonLinesDataset(filepath=str(tmp_path / "sub" / "rows.jsonl"))
    assert not dataset.exists()
    dataset.save(rows)
    assert dataset.exists()
    assert dataset.load() == rows


def test_empty_list_round_trip(tmp_path):
    dataset = JsonLinesDataset(filepath=str(tmp_path / "empty.jsonl"))
    dataset.save([])
    assert dataset.load() == []


def test_bad_line_names_file_and_line(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"a": 1}\n{"a": \n')
    with pytest.raises(DatasetError, match=r"bad\.jsonl:2"):
        JsonLinesDataset(filepath=str(path)).load()


def test_read_only_refuses_to_save(tmp_path):
    dataset = JsonLinesDataset(filepath=str(tmp_path / "src.jsonl"), read_only=True)
    with pytest.raises(DatasetError, match="read-only"):
        dataset.save([{"a": 1}])
    assert not (tmp_path / "src.jsonl").exists()


def test_numpy_values_are_written_as_json(tmp_path):
    import numpy as np

    dataset = JsonLinesDataset(filepath=str(tmp_path / "np.jsonl"))
    dataset.save([{"v": np.float32(0.5), "arr": np.arange(3)}])
    assert dataset.load() == [{"v": 0.5, "arr": [0, 1, 2]}]
