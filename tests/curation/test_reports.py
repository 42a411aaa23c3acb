import json

import pandas as pd
import pytest

from ct_spatial_bench.curation.reports import (
    ReportError, clean_field, load_reports, normalise_reports, report_text)

CSV = (
    "VolumeName,ClinicalInformation_EN,Technique_EN,Findings_EN,Impressions_EN\n"
    'valid_1_a_1.nii.gz,Not given.,"Thin slices.","A nodule in the right upper lobe.",Not given.\n'
    'valid_2_a_1.nii.gz,Cough.,Not given.,"No effusion.","Normal study."\n'
)


def test_ct_rate_csv_reads_not_given_as_empty(tmp_path):
    path = tmp_path / "validation_reports.csv"
    path.write_text(CSV)
    reports = load_reports(path)
    assert reports[0] == {"case_id": "valid_1_a_1.nii.gz",
                          "findings": "A nodule in the right upper lobe.", "impressions": "",
                          "clinical_information": "", "technique": "Thin slices."}
    assert report_text(reports[0]) == "Findings: A nodule in the right upper lobe."
    assert reports[1]["clinical_information"] == "Cough."


def test_upstream_json_mapping_and_sanity_rows_give_the_same_records(tmp_path):
    path = tmp_path / "validation_reports_output.json"
    path.write_text(json.dumps({"valid_1_a_1.nii.gz": {"Findings_EN": "Left effusion.",
                                                       "Impressions_EN": "Effusion."}}))
    from_json = load_reports(path)
    from_rows = normalise_reports([{"case_id": "valid_1_a_1.nii.gz",
                                    "findings_text": "Left effusion.",
                                    "impressions_text": "Effusion."}])
    assert from_json == from_rows
    assert from_json[0]["impressions"] == "Effusion."


def test_a_dataframe_with_missing_values_is_accepted(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text(CSV)
    frame = pd.read_csv(path)  # pandas reads an empty cell as NaN
    frame.loc[1, "Findings_EN"] = float("nan")
    assert normalise_reports(frame)[1]["findings"] == ""
    assert clean_field(float("nan")) == "" and clean_field("  Not given. ") == ""


def test_bad_rows_name_the_source_and_row(tmp_path):
    with pytest.raises(ReportError, match="reports.csv: row 2: no case id"):
        normalise_reports([{"case_id": "a"}, {"Findings_EN": "x"}], source="reports.csv")
    with pytest.raises(ReportError, match="duplicate case 'a'"):
        normalise_reports([{"case_id": "a"}, {"VolumeName": "a"}])
