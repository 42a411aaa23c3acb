"""The typed records: DESIGN.md's field names, lossless round trips, one (model, qa_id) index."""

import json

import pytest

from ct_spatial_bench.records import (
    Decision,
    Prediction,
    QAItem,
    RecordError,
    Verdict,
    as_prediction,
    decisions_by_item,
    index_by_item,
)

# The field names and their order as DESIGN.md's "Records" section writes them.
DESIGN_PREDICTION = ["qa_id", "model", "prediction", "status", "error", "prompt", "generation",
                     "model_revision", "latency_s", "timestamp"]
# Beyond DESIGN's list, first-class since issue 21 (issue 22 asks for them too).
IDENTITY_FIELDS = ["error_kind", "base_model", "blind", "variant", "tokens", "input_fingerprint",
                   "volume_fingerprint", "question_fingerprint"]
# What inference stamps on each answer and other stages read by name (first-class in issue 22).
STAMP_FIELDS = ["input_spec", "run_signature", "efficiency"]
DESIGN_VERDICT = ["qa_id", "model", "judge", "judge_model", "verdict", "reason", "raw",
                  "prompt_version", "tokens", "latency_s"]


def test_field_names_are_designs():
    assert list(Prediction.FIELDS) == (DESIGN_PREDICTION + IDENTITY_FIELDS + STAMP_FIELDS
                                       + ["hit_token_limit"])
    assert Prediction.WRITTEN_WHEN_SET == ("input_spec", "run_signature", "efficiency",
                                           "hit_token_limit")
    # beyond DESIGN's list: the variant (a probe's, a blind control's), as on its prediction
    # (written only when set)
    assert list(Verdict.FIELDS) == DESIGN_VERDICT + ["variant"]
    assert list(Decision.FIELDS) == ["model", "qa_id", "rule", "decision", "variant"]
    assert Verdict.WRITTEN_WHEN_SET == Decision.WRITTEN_WHEN_SET == ("variant",)


def test_prediction_round_trip_keeps_extra_fields():
    row = {"qa_id": "a::0", "model": "m_noise", "prediction": "left", "status": "ok",
           "error": None, "prompt": "Which side?", "generation": {"do_sample": False},
           "model_revision": "r1", "latency_s": 0.5, "timestamp": "2026-01-01T00:00:00Z",
           "error_kind": None, "base_model": "m", "blind": False, "variant": "noise:0.1",
           "tokens": {"prompt": 12, "prefill": 12, "new": 2}, "input_fingerprint": "f1",
           "volume_fingerprint": "v1", "question_fingerprint": "q1", "probe": {"sigma": 0.1}}
    pred = Prediction.from_dict(row)
    assert pred.key == ("m_noise_noise:0.1", "a::0")  # the entry: the model under its variant
    assert (pred.variant, pred.base_model, pred.question_fingerprint) == ("noise:0.1", "m", "q1")
    assert pred.extra == {"probe": {"sigma": 0.1}}
    assert pred.to_dict() == row
    assert list(pred.to_dict()) == [*DESIGN_PREDICTION, *IDENTITY_FIELDS, "probe"]


def test_an_old_prediction_without_the_new_fields_loads():
    old = {"qa_id": "a::0", "model": "m", "prediction": "left", "status": "ok", "error": None}
    pred = Prediction.from_dict(old)
    assert pred.question_fingerprint is None and pred.error_kind is None and not pred.blind
    assert {k: v for k, v in pred.to_dict().items() if k in old} == old


def test_an_unknown_error_kind_is_named():
    with pytest.raises(RecordError, match="p.jsonl:2: error_kind 'gpu' not in"):
        Prediction.from_dict({"qa_id": "q", "model": "m", "prediction": "", "status": "error",
                              "error_kind": "gpu"}, where="p.jsonl:2")


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
    (Decision, {"qa_id": "q", "model": "m", "decision": "correct"},
     r"missing field\(s\) \['rule'\]"),
    (Verdict, ["q", "m"], "expected an object, got list"),
])
def test_a_bad_record_names_where_it_came_from(cls, row, message):
    with pytest.raises(RecordError, match=f"verdicts.jsonl:7: {message}"):
        cls.from_dict(row, where="verdicts.jsonl:7")


@pytest.mark.parametrize("cls", [QAItem, Prediction, Verdict, Decision])
def test_every_field_without_a_default_is_required(cls):
    """A row lacking such a field is a RecordError naming it, never a TypeError from the class."""
    from dataclasses import MISSING, fields

    without_default = {f.name for f in fields(cls)
                       if f.default is MISSING and f.default_factory is MISSING}
    assert without_default <= set(cls.REQUIRED)


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


# ---------------------------------------------------------------- QA items (issue 22)

def test_a_qa_row_keeps_its_unknown_fields_and_its_key_order():
    from ct_spatial_bench.records import QAItem

    row = {"qa_id": "c::mask::0", "case_id": "c", "image_path": "c.nii.gz",
           "question": "Is the nodule on the right?", "answer": "Yes", "answer_type": "closed",
           "categories": ["Laterality & Bilateral Symmetry"], "family": "laterality",
           "source": "mask_qa", "meta": {"mirrored": False}}
    item = QAItem.from_dict(row)
    assert (item.answer_type, item.extra) == ("closed", {"family": "laterality"})
    assert json.dumps(item.to_dict()) == json.dumps(row)  # same fields, same order


def test_normalising_reads_aliases_into_fields_and_keeps_other_fields():
    from ct_spatial_bench.records import QAItem, normalise_qa_items

    [item] = normalise_qa_items([{"case_id": "c.nii.gz", "image_path": "d/c.nii.gz",
                                  "question_id": "c.nii.gz::7", "question": "Where?",
                                  "answer": "Left", "category": "Laterality",
                                  "difficulty": "hard"}])
    assert isinstance(item, QAItem)
    assert (item.qa_id, item.categories, item.extra) == ("c.nii.gz::7", ["Laterality"],
                                                         {"difficulty": "hard"})
    assert list(item.to_dict()) == ["qa_id", "case_id", "image_path", "question", "answer",
                                    "categories", "source", "meta", "difficulty"]


def test_records_read_as_mappings_and_cannot_be_written():
    import dataclasses

    from ct_spatial_bench.records import QAItem

    item = QAItem.from_dict({"qa_id": "q", "question": "Where?", "answer": "Left"})
    assert item["question"] == item.question == "Where?" and item.get("meta") is None
    with pytest.raises(TypeError):
        item["question"] = "Which side?"
    with pytest.raises(dataclasses.FrozenInstanceError):
        item.question = "Which side?"


def test_a_probe_variant_is_a_field_written_where_the_old_code_wrote_it():
    from ct_spatial_bench.records import with_variant

    row = {"qa_id": "a::0", "model": "m", "prediction": "left", "status": "ok", "error": None,
           "tokens": None}
    probe = {"sigma": 0.1}
    typed = with_variant(Prediction.from_dict(row), "noise:0.1", probe)
    assert typed.model == "m" and typed.variant == "noise:0.1"
    # the dict the probes built before records were typed (probes/answering.py at c6b92f3)
    old = {**row, "variant": "noise:0.1", "probe": probe}
    assert json.dumps(typed.to_dict()) == json.dumps(old)


def test_a_hand_made_prediction_row_reads_as_a_record_for_metrics():
    # the metrics' and reports' door: rows without status or text read as .get read them
    record = Prediction.from_dict({"qa_id": "q", "model": "m", "prediction": "x", "status": "ok"})
    assert as_prediction(record) is record
    bare = as_prediction({"qa_id": "q", "model": "m", "blind": True})
    assert (bare.status, bare.prediction, bare.blind, bare.key) == ("ok", None, True, ("m", "q"))
    failed = as_prediction({"qa_id": "q", "model": "m", "prediction": "", "status": "error"})
    assert failed.status == "error"
    with pytest.raises(RecordError, match="status 'done'"):
        as_prediction({"qa_id": "q", "model": "m", "prediction": "x", "status": "done"})
