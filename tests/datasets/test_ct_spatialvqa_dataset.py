import json
from pathlib import Path

import pytest

from ct_spatial_bench.datasets.ct_spatialvqa_dataset import CTSpatialVQADataset
from ct_spatial_bench.datasets.reports_dataset import RadiologyReportsDataset
from support.project import UPSTREAM_REFERENCE as SHARED


def _write(folder: Path):
    rows = [{"case_id": "valid_1_a_1.nii.gz", "image_path": "p", "question": q, "answer": "x"}
            for q in ("Which side?", "Which lobe?")]
    qa = folder / "spatial_qa_filtered_full_nifti.jsonl"
    qa.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    cats = {"valid_1_a_1.nii.gz": {"qa_pairs": [
        {"question": "Which lobe?", "answer": "x", "category": ["longitudinal"]},
        {"question": "Which side?", "answer": "x", "category": ["laterality"]}]}}
    (folder / "spatial_qa_filtered_full_with_categories.json").write_text(json.dumps(cats))
    return qa


def test_categories_file_beside_the_qa_file_is_attached(tmp_path):
    items = CTSpatialVQADataset(filepath=str(_write(tmp_path)), read_only=True).load()
    assert [(i["qa_id"], i["categories"]) for i in items] == [
        ("valid_1_a_1.nii.gz::0", ["Laterality & Bilateral Symmetry"]),
        ("valid_1_a_1.nii.gz::1", ["Longitudinal (Vertical) Position"])]


def test_missing_categories_file_is_an_error_naming_it(tmp_path):
    qa = _write(tmp_path)
    with pytest.raises(Exception, match="nope.json not found"):
        CTSpatialVQADataset(filepath=str(qa), categories_filepath=str(tmp_path / "nope.json")
                            ).load()
    assert CTSpatialVQADataset(filepath=str(qa), categories_filepath="").load()[0][
        "categories"] == []


def test_reports_dataset_reads_ct_rate_csv(tmp_path):
    path = tmp_path / "validation_reports.csv"
    path.write_text("VolumeName,ClinicalInformation_EN,Technique_EN,Findings_EN,Impressions_EN\n"
                    "valid_1_a_1.nii.gz,Not given.,Not given.,Left effusion.,Not given.\n")
    reports = RadiologyReportsDataset(filepath=str(path), read_only=True).load()
    assert reports[0]["findings"] == "Left effusion." and reports[0]["impressions"] == ""


@pytest.mark.slow
@pytest.mark.skipif(not SHARED.is_dir(), reason=f"CT-SpatialVQA reference not found at {SHARED}")
def test_full_benchmark_loads_with_categories_and_stable_ids():
    items = CTSpatialVQADataset(
        filepath=str(SHARED / "dataset" / "spatial_qa_filtered_full_nifti.jsonl")).load()
    assert len(items) == 9077 and len({i["qa_id"] for i in items}) == 9077
    assert items[0]["qa_id"] == "valid_1000_a_1.nii.gz::0"
    assert sum(bool(i["categories"]) for i in items) == 9068  # 9 are untagged upstream
