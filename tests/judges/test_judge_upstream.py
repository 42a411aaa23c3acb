import json

import pytest

from ct_spatial_bench.judges.jury import jury_decisions
from ct_spatial_bench.judges.upstream import (occurrence_keys, predictions_from_upstream,
                                              verdicts_from_upstream)
from ct_spatial_bench.records import RecordError, iter_jsonl, load_qa_items
from support.project import UPSTREAM_REFERENCE as UPSTREAM



def qa(qa_id, case, question, answer):
    return {"qa_id": qa_id, "case_id": case, "question": question, "answer": answer}


ITEMS = [qa("c1::0", "c1.nii.gz", "Side?", "left"), qa("c1::1", "c1.nii.gz", "Side?", "left"),
         qa("c2::0", "c2.nii.gz", "Side?", "left")]
ROWS = [{"image_path": "x/c2.npy", "question": "Side?", "answer": "left", "prediction": "left"},
        {"image_path": "x/c1.npy", "question": "Side?", "answer": "left", "prediction": "right"},
        {"image_path": "x/c1.npy", "question": "Side?", "answer": "left", "prediction": "left"}]


def test_occurrence_keys_tell_repeats_apart():
    assert occurrence_keys("abab", lambda r: r) == [("a", 0), ("b", 0), ("a", 1), ("b", 1)]


def test_repeats_are_matched_in_order_never_by_position():
    preds = predictions_from_upstream(ITEMS, ROWS, "m")
    assert [p["qa_id"] for p in preds] == ["c2::0", "c1::0", "c1::1"]
    # A verdict file that is shorter and in another order still lands on the right items.
    verdict_rows = [{"question": "Side?", "answer": "left", "prediction": "left", "is_correct": True},
                    {"question": "Side?", "answer": "left", "prediction": "right",
                     "is_correct": None}]
    verdicts = verdicts_from_upstream(preds, verdict_rows, "gpt")
    assert [(v["qa_id"], v["verdict"]) for v in verdicts] == [("c2::0", "correct"),
                                                              ("c1::0", "failed")]


def test_unmatched_row_is_an_error_naming_it():
    with pytest.raises(RecordError, match="row 1"):
        predictions_from_upstream(ITEMS[:1], ROWS[:1], "m", source="preds.jsonl")
    preds = predictions_from_upstream(ITEMS, ROWS, "m")
    with pytest.raises(RecordError, match="row 1: is_correct 'yes'"):
        verdicts_from_upstream(preds, [{**ROWS[0], "is_correct": "yes"}], "gpt")


def test_radfm_jury_accuracy_is_the_published_0_3149():
    if not UPSTREAM.is_dir():
        pytest.skip(f"upstream reference files not found at {UPSTREAM}")
    items = load_qa_items(UPSTREAM / "dataset" / "spatial_qa_filtered_full_nifti.jsonl")
    preds = predictions_from_upstream(
        items, list(iter_jsonl(UPSTREAM / "predictions" / "radfm_predictions_full.jsonl")), "radfm")
    verdicts = []
    for judge, name in [("gpt", "radfm_gpt_eval.json"), ("qwen", "radfm_qwen_eval.json"),
                        ("gemini", "radfm_gemini2.5_eval_full.json")]:
        rows = json.loads((UPSTREAM / "judgments" / name).read_text())
        verdicts += verdicts_from_upstream(preds, rows, judge, source=name)
    decisions = jury_decisions(verdicts, rule="mean066")
    assert len(decisions) == 9077
    accuracy = sum(d == "correct" for d in decisions.values()) / len(decisions)
    # published/llm_jury_accuracy.json
    assert accuracy == pytest.approx(0.31486173845984355, rel=1e-9)
