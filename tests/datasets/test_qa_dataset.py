import json

import pytest
from kedro.io.core import DatasetError

from ct_spatial_bench.datasets import QADataset


def _write_jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))


def test_upstream_rows_get_upstream_question_ids(tmp_path):
    path = tmp_path / "qa.jsonl"
    rows = [
        {"case_id": "valid_1_a_1.nii.gz", "image_path": "x/valid_1_a_1.nii.gz", "question": "Q0", "answer": "A"},
        {"case_id": "valid_2_a_1.nii.gz", "image_path": "x/valid_2_a_1.nii.gz", "question": "Q", "answer": "A"},
        {"case_id": "valid_1_a_1.nii.gz", "image_path": "x/valid_1_a_1.nii.gz", "question": "Q1", "answer": "B"},
    ]
    _write_jsonl(path, rows)
    items = QADataset(filepath=str(path)).load()
    assert [i["qa_id"] for i in items] == [
        "valid_1_a_1.nii.gz::0", "valid_2_a_1.nii.gz::0", "valid_1_a_1.nii.gz::1"]
    assert set(items[0]) == {"qa_id", "case_id", "image_path", "question", "answer",
                             "categories", "source", "meta"}


def test_seed_format_and_round_trip(tmp_path):
    path = tmp_path / "seed.jsonl"
    _write_jsonl(path, [{"image_path": "vol.nii.gz", "question": "Which side?", "answer": "Left",
                         "meta": {"k": 1}}])
    dataset = QADataset(filepath=str(path))
    items = dataset.load()
    assert items[0]["case_id"] == "vol.nii.gz" and items[0]["meta"] == {"k": 1}
    out = QADataset(filepath=str(tmp_path / "out.jsonl"))
    out.save(items)
    assert out.load() == items


def test_csv_and_folder_lists(tmp_path):
    folder = tmp_path / "qa"
    folder.mkdir()
    (folder / "a.csv").write_text(
        'case_id,image_path,question,answer,categories\n'
        'c1,c1.nii.gz,Which lung?,Right lung,"[""Laterality & Bilateral Symmetry""]"\n')
    _write_jsonl(folder / "b.jsonl", [{"case_id": "c2", "question": "Q", "answer": "A"}])
    items = QADataset(filepath=str(folder)).load()
    assert [i["qa_id"] for i in items] == ["c1::0", "c2::0"]
    assert items[0]["categories"] == ["Laterality & Bilateral Symmetry"]


def test_missing_field_names_file_and_line(tmp_path):
    path = tmp_path / "qa.jsonl"
    _write_jsonl(path, [{"case_id": "c", "question": "Q", "answer": "A"},
                        {"case_id": "c", "question": "Q2"}])
    with pytest.raises(DatasetError, match=r"qa\.jsonl:2: missing or non-text field 'answer'"):
        QADataset(filepath=str(path)).load()


def test_duplicate_qa_id_is_an_error(tmp_path):
    path = tmp_path / "qa.jsonl"
    _write_jsonl(path, [{"qa_id": "x", "case_id": "c", "question": "Q", "answer": "A"},
                        {"qa_id": "x", "case_id": "c", "question": "Q", "answer": "A"}])
    with pytest.raises(DatasetError, match="duplicate qa_id 'x'"):
        QADataset(filepath=str(path)).load()
