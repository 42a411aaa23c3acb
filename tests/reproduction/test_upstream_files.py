import json
import random

import pytest

from ct_spatial_bench.records import RecordError
from ct_spatial_bench.reproduction.summary import (
    SUMMARY_COLUMNS,
    load_upstream_benchmark,
    published_comparison,
    reproduction_summary,
)
from ct_spatial_bench.reproduction.upstream_files import (
    attach_categories,
    discover_upstream_files,
)

QA = [  # two identical rows in case A: told apart by their order only
    {"case_id": "A.nii.gz", "image_path": "x/A.nii.gz", "question": "Which side?",
     "answer": "left"},
    {"case_id": "A.nii.gz", "image_path": "x/A.nii.gz", "question": "Which side?",
     "answer": "left"},
    {"case_id": "A.nii.gz", "image_path": "x/A.nii.gz", "question": "Upper or lower?",
     "answer": "upper lobe"},
    {"case_id": "B.nii.gz", "image_path": "x/B.nii.gz", "question": "Which side?",
     "answer": "right"},
]
PREDS = [  # RadFM-style: the case only in image_path, as .npy
    {"image_path": "/p/A.npy", "question": "Which side?", "answer": "left", "prediction": "left"},
    {"image_path": "/p/A.npy", "question": "Which side?", "answer": "left", "prediction": "right"},
    {"image_path": "/p/A.npy", "question": "Upper or lower?", "answer": "upper lobe",
     "prediction": ""},
    {"image_path": "/p/B.npy", "question": "Which side?", "answer": "right",
     "prediction": "right"},
]
CATEGORIES = {
    "A.nii.gz": {"qa_pairs": [
        {"question": "Which side?", "answer": "left", "category": ["Laterality & Bilateral Symmetry"]},
        {"question": "Which side?", "answer": "left", "category": ["Medial-Lateral Orientation"]},
        {"question": "Upper or lower?", "answer": "upper lobe",
         "category": ["Longitudinal (Vertical) Position"]}]},
    "B.nii.gz": {"qa_pairs": [{"question": "Which side?", "answer": "right",
                               "category": ["Laterality & Bilateral Symmetry"]}]},
}


def verdict_rows(verdicts, case=False):
    return [{"case_id": (p["image_path"][3:4] + ".nii.gz") if case else None,
             "question": p["question"], "answer": p["answer"], "prediction": p["prediction"],
             "is_correct": v} for p, v in zip(PREDS, verdicts)]


def write_upstream(root, gpt=(True, False, False, True), qwen=(True, True, None, True)):
    (root / "dataset").mkdir(parents=True)
    (root / "predictions").mkdir()
    (root / "judgments" / "deeper").mkdir(parents=True)
    (root / "dataset" / "spatial_qa_filtered_full_nifti.jsonl").write_text(
        "".join(json.dumps(r) + "\n" for r in QA))
    (root / "dataset" / "spatial_qa_filtered_full_with_categories.json").write_text(
        json.dumps(CATEGORIES))
    (root / "predictions" / "toy_predictions_full.jsonl").write_text(
        "".join(json.dumps(r) + "\n" for r in PREDS))
    shuffled = verdict_rows(gpt)
    random.Random(0).shuffle(shuffled)  # order must not matter
    (root / "judgments" / "toy_gpt_eval.json").write_text(json.dumps(shuffled))
    (root / "judgments" / "deeper" / "toy_qwen_eval.json").write_text(
        json.dumps(verdict_rows(qwen, case=True)[1:]))  # shorter file: first item dropped
    return root


def test_discovery_is_recursive_and_refuses_two_files_of_one_kind(tmp_path):
    root = write_upstream(tmp_path / "up")
    found = discover_upstream_files(root)
    assert set(found) == {"toy"}
    assert set(found["toy"]) == {"predictions", "gpt", "qwen"}
    (root / "toy_gpt_eval.json").write_text("[]")
    with pytest.raises(RecordError, match="two gpt files"):
        discover_upstream_files(root)


def test_load_joins_every_file_by_key(tmp_path):
    loaded = load_upstream_benchmark(write_upstream(tmp_path / "up"))
    qa_ids = [q["qa_id"] for q in loaded["qa_items"]]
    assert qa_ids == ["A.nii.gz::0", "A.nii.gz::1", "A.nii.gz::2", "B.nii.gz::0"]
    assert [p["qa_id"] for p in loaded["predictions"]] == qa_ids
    assert loaded["predictions"][1]["prediction"] == "right"
    verdict = {(v["judge"], v["qa_id"]): v["verdict"] for v in loaded["verdicts"]}
    assert verdict[("gpt", "A.nii.gz::0")] == "correct"
    assert verdict[("gpt", "A.nii.gz::1")] == "incorrect"
    assert ("qwen", "A.nii.gz::0") not in verdict  # dropped from the shorter file
    assert verdict[("qwen", "A.nii.gz::2")] == "failed"  # is_correct null
    cats = {q["qa_id"]: q["categories"] for q in loaded["qa_items"]}
    assert cats["A.nii.gz::1"] == ["Medial-Lateral Orientation (Centricity)"]  # made canonical
    assert {s["kind"] for s in loaded["sources"]} == {"qa", "categories", "predictions", "gpt",
                                                     "qwen"}
    assert all(len(s["sha256"]) == 64 for s in loaded["sources"])


def test_a_verdict_matching_no_prediction_is_an_error_naming_file_and_item(tmp_path):
    root = write_upstream(tmp_path / "up")
    rows = verdict_rows((True, True, True, True))
    rows[2]["prediction"] = "something the model never said"
    (root / "judgments" / "toy_gpt_eval.json").write_text(json.dumps(rows))
    with pytest.raises(RecordError, match=r"toy_gpt_eval.json, row 3"):
        load_upstream_benchmark(root)


def test_a_prediction_matching_no_question_is_an_error(tmp_path):
    root = write_upstream(tmp_path / "up")
    rows = PREDS + [PREDS[3]]  # a second prediction for B's only question
    (root / "predictions" / "toy_predictions_full.jsonl").write_text(
        "".join(json.dumps(r) + "\n" for r in rows))
    with pytest.raises(RecordError, match="toy_predictions_full.jsonl, row 5"):
        load_upstream_benchmark(root)


def test_summary_rows_have_upstreams_columns_and_every_rule(tmp_path):
    loaded = load_upstream_benchmark(write_upstream(tmp_path / "up"))
    text = [{"model": "toy", "count": 3, "bleu": 10.0, "meteor": 0.5, "rouge1_f": 0.4,
             "rouge2_f": 0.2, "rougeL_f": 0.4, "sbert_cosine": 0.7, "n_empty": 1}]
    (row,) = reproduction_summary(loaded["qa_items"], loaded["predictions"],
                                  loaded["verdicts"], text, n_boot=50)
    assert list(row)[:len(SUMMARY_COLUMNS)] == list(SUMMARY_COLUMNS)
    assert row["judges"] == "gpt+qwen"
    # items: 0 both correct; 1 gpt no, qwen yes; 2 gpt no, qwen failed; 3 gpt yes (qwen file
    # lacks item 0 only) -> mean066 needs both: correct on 0 and 3
    assert row["n_judged"] == 4
    assert row["jury_mean066"] == pytest.approx(2 / 4)
    assert row["jury_strict"] == pytest.approx(2 / 4)
    assert row["jury_majority"] == pytest.approx(2 / 4)  # a 1-1 tie is incorrect
    comparison = published_comparison([row], tmp_path / "up")
    assert comparison == []  # no published tables there


def test_attach_categories_keeps_items_the_file_lacks(tmp_path):
    path = tmp_path / "c.json"
    path.write_text(json.dumps({"Z.nii.gz": {"qa_pairs": []}}))
    item = {"qa_id": "q", "case_id": "A.nii.gz", "question": "?", "answer": "!",
            "categories": ["x"]}
    assert attach_categories([item], path) == [item]
