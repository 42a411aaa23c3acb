"""Bad inputs stop with an error naming the file and line, before anything is judged or written;
the manifest keeps no key, whatever form ``--params`` took."""

from __future__ import annotations

import json

import pytest

from ct_spatial_bench.records import RecordError

KEY = "Zx81-notshapedlikeanykey-42q"


def _lines(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


def _pred(qa_id, text="left"):
    return {"qa_id": qa_id, "model": "m", "prediction": text, "status": "ok", "error": None}


def test_a_non_utf8_line_is_named(tmp_path):
    from ct_spatial_bench.datasets import JsonLinesDataset

    path = tmp_path / "m.jsonl"
    _lines(path, [_pred("a")])
    with open(path, "ab") as handle:
        handle.write(b'{"qa_id": "b", "prediction": "caf\xe9"}\n')
    with pytest.raises(Exception, match=rf"{path}:2: not UTF-8"):
        JsonLinesDataset(str(path)).load()


def test_a_duplicate_prediction_stops_judging_before_any_verdict_is_written(tmp_path):
    from kedro.io import DataCatalog
    from kedro.runner import SequentialRunner

    from ct_spatial_bench.pipelines.judging.pipeline import create_pipeline

    predictions = tmp_path / "m.jsonl"
    _lines(predictions, [_pred("a"), _pred("b"), _pred("a", "right")])
    verdicts = tmp_path / "verdicts.jsonl"
    verdicts.write_text("untouched\n")
    catalog = DataCatalog.from_config({
        "m.predictions": {"type": "ct_spatial_bench.datasets.predictions_dataset."
                                  "PredictionsDataset", "filepath": str(predictions)},
        "verdicts": {"type": "ct_spatial_bench.datasets.JsonLinesDataset",
                     "filepath": str(verdicts)},
    })
    catalog["benchmark_qa"] = [{"qa_id": q, "question": "q", "answer": "left"} for q in "ab"]
    catalog["params:judging"] = {"judges": ["rule"]}
    catalog["llm_api_keys"] = {}
    with pytest.raises(Exception) as stopped:
        SequentialRunner().run(create_pipeline(models=["m"]), catalog)
    assert f"{predictions}:3: duplicate prediction" in str(stopped.value)
    assert "first at line 1" in str(stopped.value)
    assert verdicts.read_text() == "untouched\n"


def test_pooling_refuses_a_duplicate_given_in_memory():
    from ct_spatial_bench.pipelines.judging.nodes import pool_predictions

    with pytest.raises(RecordError, match="m predictions, record 2: duplicate"):
        pool_predictions(m=[_pred("a"), _pred("a")])


@pytest.mark.parametrize("argv", [
    ["kedro", "run", f"--params=judging.api_key={KEY}"],
    ["kedro", "run", "--params", f"judging.api_key={KEY}"],
    ["kedro", "run", f"--params=a=1,judging.config.api_key={KEY}"],
    ["kedro", "run", f"--params=a=1,judging.config.secret_value={KEY},b=2"],
    ["kedro", "run", f"--params=judging.config.key={KEY}"],   # caught by value alone
    ["kedro", "run", "--params=judging.note=sk-abc***************wxyz"],
])
def test_the_manifest_command_line_keeps_no_key(argv, monkeypatch):
    from ct_spatial_bench.provenance import command_line, redact

    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    line = " ".join(command_line(argv))
    assert KEY not in line and "***" not in line and "<removed>" in line
    assert "run" in line
    assert redact({"judging": {"config": {"key": KEY, "n": 3}}}) == {
        "judging": {"config": {"key": "<removed>", "n": 3}}}
