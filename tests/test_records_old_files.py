"""Last round's output files load into typed records and save back byte for byte.

The files under ``tests/data/round5_outputs/`` are excerpts (the first lines) of a sanity
``kedro run`` made with the code from before the records became typed (main at c6b92f3): the
benchmark QA, both models' predictions, a probe's predictions (a variant), the offline judge's
verdicts, the jury's decisions and the mask track's questions (their own key order, with
``answer_type``). What they hold was written by that code, not by the code under test.
"""

from pathlib import Path

import pytest

from ct_spatial_bench.datasets import JsonLinesDataset, QADataset, RecordsDataset
from ct_spatial_bench.datasets.predictions_dataset import PredictionsDataset
from ct_spatial_bench.records import Decision, Prediction, QAItem, Verdict, iter_jsonl

OLD = Path(__file__).parent / "data" / "round5_outputs"
PREDICTION_FILES = ["predictions_geometry.jsonl", "predictions_blind.jsonl",
                    "probe_predictions_geometry_mirrored.jsonl"]


def _saved_again(dataset_cls, name: str, tmp_path: Path, records: list) -> bytes:
    out = tmp_path / name
    dataset_cls(filepath=str(out)).save(records)
    return out.read_bytes()


def test_benchmark_qa_loads_as_items_and_saves_back_byte_for_byte(tmp_path):
    items = QADataset(filepath=str(OLD / "benchmark_qa.jsonl")).load()
    assert items and all(isinstance(item, QAItem) for item in items)
    first = items[0]  # the file's first line, read by eye
    assert (first.qa_id, first.case_id, first.answer) == ("phantom_000.nii.gz::0",
                                                         "phantom_000.nii.gz", "Right lower lobe")
    assert first.categories == ["Longitudinal (Vertical) Position", "Adjacency & Containment"]
    assert first.meta["template"] == "nodule_lobe" and first.answer_type is None
    assert _saved_again(QADataset, "qa.jsonl", tmp_path, items) == \
        (OLD / "benchmark_qa.jsonl").read_bytes()


def test_mask_questions_keep_their_own_key_order_and_extra_fields(tmp_path):
    rows = list(iter_jsonl(OLD / "mask_qa.jsonl"))
    items = [QAItem.from_dict(row) for row in rows]
    assert items[0].answer_type == "closed" and items[0].extra["family"] == "laterality"
    assert _saved_again(JsonLinesDataset, "mask.jsonl", tmp_path, items) == \
        (OLD / "mask_qa.jsonl").read_bytes()


@pytest.mark.parametrize("name", PREDICTION_FILES)
def test_predictions_load_as_records_and_save_back_byte_for_byte(tmp_path, name):
    predictions = PredictionsDataset(filepath=str(OLD / name)).load()
    assert all(isinstance(p, Prediction) for p in predictions)
    assert all(p.status == "ok" and p.error_kind is None for p in predictions)
    assert all(p.run_signature and p.question_fingerprint for p in predictions)
    assert _saved_again(PredictionsDataset, name, tmp_path, predictions) == \
        (OLD / name).read_bytes()


def test_prediction_fields_read_by_key_elsewhere_are_fields():
    geometry, blind, probe = ([Prediction.from_dict(r) for r in iter_jsonl(OLD / name)][0]
                              for name in PREDICTION_FILES)
    assert (geometry.model, geometry.base_model, geometry.blind) == ("geometry", "geometry", False)
    assert geometry.input_spec == "ras_hu" and blind.input_spec is None
    assert probe.variant == "mirror_lr" and probe.model == "geometry"
    assert not {"error_kind", "base_model", "blind", "input_spec", "run_signature",
                "efficiency", "variant"} & set(geometry.extra)


def test_verdicts_and_decisions_load_as_records_and_save_back(tmp_path):
    verdicts = RecordsDataset(filepath=str(OLD / "verdicts.jsonl"), record="verdict").load()
    assert all(isinstance(v, Verdict) for v in verdicts)
    assert [v.verdict for v in verdicts] == ["incorrect", "correct", "correct"]
    assert verdicts[0].judge == "offline" and verdicts[0].variant is None
    out = tmp_path / "v.jsonl"
    RecordsDataset(filepath=str(out), record="verdict").save(verdicts)
    assert out.read_bytes() == (OLD / "verdicts.jsonl").read_bytes()
    decisions = RecordsDataset(filepath=str(OLD / "jury_decisions.jsonl"),
                               record="decision").load()
    assert all(isinstance(d, Decision) for d in decisions)
    assert decisions[0].key == ("blind", "phantom_000.nii.gz::0")
    assert _saved_again(JsonLinesDataset, "d.jsonl", tmp_path, decisions) == \
        (OLD / "jury_decisions.jsonl").read_bytes()


def test_a_bad_verdict_line_is_named_by_file_and_line(tmp_path):
    from kedro.io.core import DatasetError  # Kedro wraps a load's error, keeping its message

    bad = tmp_path / "verdicts.jsonl"
    lines = (OLD / "verdicts.jsonl").read_text().splitlines()
    bad.write_text("\n".join([lines[0], lines[1].replace('"correct"', '"maybe"')]) + "\n")
    with pytest.raises(DatasetError, match=r"verdicts.jsonl:2: verdict 'maybe' not in"):
        RecordsDataset(filepath=str(bad), record="verdict").load()
