"""The typed records: DESIGN.md's field names, lossless round trips, one (model, qa_id) index."""

import json

import pytest

from ct_spatial_bench.records import (
    Decision,
    Prediction,
    RecordError,
    Verdict,
    decisions_by_item,
    index_by_item,
)

# The field names and their order as DESIGN.md's "Records" section writes them.
DESIGN_PREDICTION = ["qa_id", "model", "prediction", "status", "error", "prompt", "generation",
                     "model_revision", "latency_s", "timestamp"]
DESIGN_VERDICT = ["qa_id", "model", "judge", "judge_model", "verdict", "reason", "raw",
                  "prompt_version", "tokens", "latency_s"]


def test_field_names_are_designs():
    assert list(Prediction.FIELDS) == DESIGN_PREDICTION
    assert list(Verdict.FIELDS) == DESIGN_VERDICT
    assert list(Decision.FIELDS) == ["model", "qa_id", "rule", "decision"]


def test_prediction_round_trip_keeps_extra_fields():
    row = {"qa_id": "a::0", "model": "m", "prediction": "left", "status": "ok", "error": None,
           "prompt": "Which side?", "generation": {"do_sample": False}, "model_revision": "r1",
           "latency_s": 0.5, "timestamp": "2026-01-01T00:00:00Z", "variant": "noise:0.1"}
    pred = Prediction.from_dict(row)
    assert pred.key == ("m", "a::0")
    assert pred.extra == {"variant": "noise:0.1"}
    assert pred.to_dict() == row
    assert list(pred.to_dict()) == [*DESIGN_PREDICTION, "variant"]


def test_verdict_written_as_json_lines_reads_back_equal():
    verdict = Verdict("a::0", "m", "rule", judge_model="rule-v1", verdict="incorrect",
                      reason="yes/no polarity differs", prompt_version="rule-v1",
                      tokens={"prompt": 3}, latency_s=0.01)
    line = json.dumps(verdict.to_dict())
    assert Verdict.from_dict(json.loads(line)) == verdict


@pytest.mark.parametrize("cls, row, message", [
    (Prediction, {"qa_id": "q", "model": "m", "prediction": "x", "status": "done"},
     "status 'done' not in"),
    (Prediction, {"qa_id": "q", "model": "m", "status": "ok"},
     r"missing field\(s\) \['prediction'\]"),
    (Verdict, {"qa_id": "q", "model": "m", "judge": "j", "verdict": "wrong"},
     "verdict 'wrong' not in"),
    (Decision, {"qa_id": "q", "model": "m", "rule": "majority", "decision": "maybe"},
     "decision 'maybe' not in"),
    (Verdict, ["q", "m"], "expected an object, got list"),
])
def test_a_bad_record_names_where_it_came_from(cls, row, message):
    with pytest.raises(RecordError, match=f"verdicts.jsonl:7: {message}"):
        cls.from_dict(row, where="verdicts.jsonl:7")


def test_index_by_item_keys_by_model_and_qa_id_in_input_order():
    rows = [{"model": "b", "qa_id": "2", "x": 1}, {"model": "a", "qa_id": "2", "x": 2},
            {"model": "b", "qa_id": "1", "x": 3}]
    assert list(index_by_item(rows)) == [("b", "2"), ("a", "2"), ("b", "1")]
    assert index_by_item(rows, value="x") == {("b", "2"): 1, ("a", "2"): 2, ("b", "1"): 3}


def test_a_duplicate_item_names_the_source_model_and_qa_id():
    rows = [{"model": "m", "qa_id": "q1"}, {"model": "m", "qa_id": "q2"},
            {"model": "m", "qa_id": "q1"}]
    with pytest.raises(RecordError, match=r"predictions/m\.jsonl: duplicate record for model "
                                          r"'m', qa_id 'q1' \(its items 1 and 3\)"):
        index_by_item(rows, "predictions/m.jsonl")


def test_decisions_by_item_reads_decision_rows():
    rows = [Decision("m", "q1", "majority", "correct").to_dict(),
            Decision("m", "q2", "majority", "failed").to_dict()]
    assert decisions_by_item(rows) == {("m", "q1"): "correct", ("m", "q2"): "failed"}
    with pytest.raises(RecordError, match="jury_decisions: duplicate"):
        decisions_by_item(rows + rows[:1], "jury_decisions")
