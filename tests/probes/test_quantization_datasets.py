"""The quantization ablation's predictions and verdicts load through the catalog's datasets as typed
records, and save back byte for byte: files written by older code and records made here alike.

The files under ``tests/data/old_quantization_outputs/<commit>/`` are excerpts (lines 1, 2, 7 and
13: two questions at full precision, the first again at int8 and int4) of the files
``probes_quantization_medgemma`` wrote in ``tests/pipelines/test_quantization_ablation.py``'s run
on a tiny Gemma 3, run with the code of that commit: ``1a4ca7b`` (the ablation's first version:
verdicts name a precision ``medgemma@int8`` and have no ``variant``; another key order) and
``c6b92f3`` (last round's: ``variant`` a field). Nothing in them was written by the code under
test; the expected values below were read off the files by eye.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from kedro.io import DatasetError
from support.project import PROJECT_ROOT

from ct_spatial_bench.records import Prediction, Verdict

OLD = Path(__file__).resolve().parents[1] / "data" / "old_quantization_outputs"
COMMITS = ["1a4ca7b", "c6b92f3"]
PREDICTIONS, VERDICTS = "{model}.predictions_quantization", "{model}.verdicts_quantization"
# (qa_id, precision) of each excerpt's lines, in file order
LINES = [("case_a.nii.gz::0", "full"), ("case_a.nii.gz::1", "full"),
         ("case_a.nii.gz::0", "int8"), ("case_a.nii.gz::0", "int4")]


@pytest.fixture(scope="module", params=[None, "full"], ids=["base", "full"])
def entries(request):
    """The catalog's two entries in an environment (conf/full declares neither: base's apply)."""
    from kedro.config import OmegaConfigLoader

    from ct_spatial_bench.settings import CONFIG_LOADER_ARGS

    catalog = OmegaConfigLoader(str(PROJECT_ROOT / "conf"), env=request.param,
                                **CONFIG_LOADER_ARGS)["catalog"]
    return {name: catalog[name] for name in (PREDICTIONS, VERDICTS)}


def _dataset(entries, name: str, path: Path):
    """The dataset ``name``'s catalog entry declares, on ``path``."""
    from kedro.io import AbstractDataset

    return AbstractDataset.from_config(name, {**entries[name], "filepath": str(path)})


def test_the_entries_declare_typed_records(entries):
    assert entries[PREDICTIONS]["type"] == \
        "ct_spatial_bench.datasets.predictions_dataset.PredictionsDataset"
    assert entries[VERDICTS]["type"] == "ct_spatial_bench.datasets.RecordsDataset"
    assert entries[VERDICTS]["record"] == "verdict"


def test_one_answer_per_model_variant_and_question(entries, tmp_path):
    """Two precisions of one question are two answers; the same precision twice is refused,
    naming both lines."""
    row = {"qa_id": "v::0", "model": "medgemma", "prediction": "Left", "status": "ok"}
    path = tmp_path / "medgemma_quantization.jsonl"
    path.write_text("".join(json.dumps({**row, "variant": v}) + "\n"
                            for v in ("full", "int8", "int8")))
    with pytest.raises(DatasetError, match=r":3: duplicate prediction for model .medgemma., "
                                          r"variant 'int8', qa_id 'v::0' \(first at line 2\)"):
        _dataset(entries, PREDICTIONS, path).load()
    path.write_text("".join(json.dumps({**row, "variant": v}) + "\n" for v in ("full", "int8")))
    assert [p.variant for p in _dataset(entries, PREDICTIONS, path).load()] == ["full", "int8"]


@pytest.mark.parametrize("commit", COMMITS)
def test_old_predictions_load_as_records_and_save_back_byte_for_byte(entries, tmp_path, commit):
    old = OLD / commit / "medgemma_quantization.jsonl"
    predictions = _dataset(entries, PREDICTIONS, old).load()
    assert all(isinstance(p, Prediction) for p in predictions)
    # one model, each qa_id once per precision: (model, qa_id) repeats, told apart by variant
    assert [(p.qa_id, p.variant) for p in predictions] == LINES
    assert {p.model for p in predictions} == {"medgemma"}
    assert all(p.status == "ok" and p.latency_s > 0 for p in predictions)
    assert [p.efficiency["precision"] for p in predictions] == ["full", "full", "int8", "int4"]
    assert [p.efficiency["quantization_backend"] for p in predictions] == [
        None, None, "quanto", "quanto"]
    assert [p.extra for p in predictions] == [{"probe": {"precision": v}} for _, v in LINES]
    out = tmp_path / "medgemma_quantization.jsonl"
    _dataset(entries, PREDICTIONS, out).save(predictions)
    assert out.read_bytes() == old.read_bytes()


@pytest.mark.parametrize("commit", COMMITS)
def test_old_verdicts_load_as_records_and_save_back_byte_for_byte(entries, tmp_path, commit):
    old = OLD / commit / "medgemma_quantization_verdicts.jsonl"
    verdicts = _dataset(entries, VERDICTS, old).load()
    assert all(isinstance(v, Verdict) for v in verdicts)
    assert [v.qa_id for v in verdicts] == [qa_id for qa_id, _ in LINES]
    assert [v.verdict for v in verdicts] == ["incorrect", "incorrect", "incorrect", "correct"]
    assert {v.judge for v in verdicts} == {"offline"}
    if commit == "1a4ca7b":  # the precision in the model's name, no variant field
        assert [(v.model, v.variant) for v in verdicts] == [
            (f"medgemma@{p}", None) for _, p in LINES]
    else:
        assert [(v.model, v.variant) for v in verdicts] == [("medgemma", p) for _, p in LINES]
    out = tmp_path / "medgemma_quantization_verdicts.jsonl"
    _dataset(entries, VERDICTS, out).save(verdicts)
    assert out.read_bytes() == old.read_bytes()


@pytest.mark.parametrize("commit", COMMITS)
def test_old_files_tabulate_from_the_loaded_records(entries, commit):
    """Worked by hand from the excerpts' verdicts: full wrong on both questions (0 of 2), int8
    wrong on the first (0 of 1), int4 right on it (1 of 1); against full on the first question:
    int8 agrees (no discordant item), int4 is right where full was wrong (exact two-sided
    binomial p of 0 of 1 at 1/2: 1)."""
    from ct_spatial_bench.pipelines.probes_quantization.nodes import tabulate_precisions

    qa = [{"qa_id": qa_id, "case_id": qa_id.split("::")[0], "question": "Which side?",
           "answer": "left", "categories": ["Laterality"]}
          for qa_id in ("case_a.nii.gz::0", "case_a.nii.gz::1")]
    predictions = _dataset(entries, PREDICTIONS,
                           OLD / commit / "medgemma_quantization.jsonl").load()
    verdicts = _dataset(entries, VERDICTS,
                        OLD / commit / "medgemma_quantization_verdicts.jsonl").load()
    table = tabulate_precisions(qa, predictions, verdicts, {}, {"n_boot": 20})["medgemma"]
    assert list(table["precision"]) == ["full", "int8", "int4"]
    assert list(table["n_judged"]) == [2, 1, 1] and list(table["n_correct"]) == [0, 0, 1]
    assert list(table["accuracy"]) == [0.0, 0.0, 1.0]
    assert list(table["backend"].fillna("none")) == ["none", "quanto", "quanto"]
    assert table.loc[1:, "n_paired"].tolist() == [1, 1]
    assert table.loc[1:, "full_only"].tolist() == [0, 0]
    assert table.loc[1:, "quantized_only"].tolist() == [0, 1]
    assert table.loc[1:, "p_vs_full"].tolist() == [1.0, 1.0]


# What records made in code (as answer_at_precisions and the judges make them) write: every
# field in the records' order, then the probe's own (``probe``); written out by hand.
PREDICTION_LINE = (
    '{"qa_id": "q0", "model": "m", "prediction": "left", "status": "ok", "error": null, '
    '"prompt": "", "generation": {}, "model_revision": "", "latency_s": 0.5, "timestamp": null, '
    '"error_kind": null, "base_model": "m", "blind": false, "variant": "int4", "tokens": null, '
    '"input_fingerprint": null, "volume_fingerprint": null, "question_fingerprint": null, '
    '"probe": {"precision": "int4"}}\n')
VERDICT_LINE = (
    '{"qa_id": "q0", "model": "m", "judge": "rule", "judge_model": "rule-v1", '
    '"verdict": "correct", "reason": "", "raw": "", "prompt_version": "rule-v1", "tokens": {}, '
    '"latency_s": 0.0, "variant": "int4"}\n')


def test_records_made_in_code_save_then_load_as_the_same_records(entries, tmp_path):
    from ct_spatial_bench.records import with_variant

    prediction = with_variant(Prediction(qa_id="q0", model="m", prediction="left",
                                         latency_s=0.5, base_model="m"),
                              "int4", {"precision": "int4"})
    verdict = Verdict(qa_id="q0", model="m", judge="rule", judge_model="rule-v1",
                      verdict="correct", prompt_version="rule-v1", latency_s=0.0,
                      variant="int4")
    for name, record, line in ((PREDICTIONS, prediction, PREDICTION_LINE),
                               (VERDICTS, verdict, VERDICT_LINE)):
        path = tmp_path / f"{name}.jsonl"
        dataset = _dataset(entries, name, path)
        dataset.save([record])
        assert path.read_text() == line
        (loaded,) = dataset.load()
        assert type(loaded) is type(record) and loaded == record
        assert loaded.variant == "int4" and loaded.key == ("m_int4", "q0")  # the entry's key
        dataset.save([loaded])  # read, then written: the same bytes
        assert path.read_text() == line
