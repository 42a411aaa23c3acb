"""Acceptance (issue 18): ``probes_quantization_medgemma`` through Kedro on a tiny real Gemma 3
saved here, on CPU (optimum-quanto): one table row per precision with accuracy, latency, memory
and backend, and the report's efficiency section showing it."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from support.project import make_scratch_project
from support.tiny_vlm_folders import build_tiny_gemma3


pytest.importorskip("optimum.quanto", reason="pip install 'ct_spatial_bench[quantization]'")

QUESTIONS = ("Is the nodule in the left lung?", "Which side is the nodule on?",
             "Is the lesion above the heart?")


def _qa_items() -> list[dict]:
    return [{"qa_id": f"case_{case}.nii.gz::{i}", "case_id": f"case_{case}",
             "image_path": f"case_{case}.nii.gz", "question": question,
             "answer": "left" if i % 2 else "yes",
             "categories": ["Laterality & Bilateral Symmetry"],
             "source": "test", "meta": {}}
            for case in ("a", "b") for i, question in enumerate(QUESTIONS)]


@pytest.fixture(scope="module")
def ablation_run(tmp_path_factory):
    from kedro.framework.session import KedroSession
    from kedro.framework.startup import bootstrap_project

    root = make_scratch_project(tmp_path_factory.mktemp("quantization_project"))
    model = build_tiny_gemma3(tmp_path_factory.mktemp("tiny_gemma3"))
    qa = root / "data/03_primary/benchmark_qa.jsonl"
    qa.parent.mkdir(parents=True)
    qa.write_text("".join(json.dumps(item) + "\n" for item in _qa_items()))
    inputs = root / "data/05_model_input/medgemma"
    inputs.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for case in ("a", "b"):  # two 16x16 RGB slices per volume, as the medgemma spec writes them
        np.save(inputs / f"case_{case}.npy", rng.integers(0, 256, (2, 16, 16, 3), dtype=np.uint8))
    params = {"medgemma": {"inference": {"config": {
        "model_path": str(model), "device": "cpu", "dtype": "float32",
        "generation": {"max_new_tokens": 3}}}}}
    mp = pytest.MonkeyPatch()
    mp.chdir(root)
    bootstrap_project(root)
    with KedroSession.create(project_path=root, runtime_params=params) as session:
        session.run(pipeline_names=["probes_quantization_medgemma"],
                    to_outputs=["quantization_tables"])
    yield root
    mp.undo()


@pytest.mark.slow
def test_one_row_per_precision_with_accuracy_latency_memory_and_backend(ablation_run):
    table = pd.read_csv(ablation_run / "data/08_reporting/probes/quantization/medgemma.csv")
    assert list(table["precision"]) == ["full", "int8", "int4"]
    assert list(table["backend"].fillna("none")) == ["none", "quanto", "quanto"]
    assert (table["n_judged"] == 6).all() and (table["n_errors"] == 0).all()
    assert table["accuracy"].between(0, 1).all()
    assert (table["accuracy_ci_low"] <= table["accuracy"]).all()
    assert (table["latency_s_mean"] > 0).all()
    memory = table.set_index("precision")["parameter_memory_mib"]
    assert memory["full"] > memory["int8"] > memory["int4"] > 0
    assert (table["peak_memory_mib"] > 0).all()
    assert table["p_vs_full"].isna().tolist() == [True, False, False]
    assert table["p_vs_full"].iloc[1:].between(0, 1).all()


@pytest.mark.slow
def test_each_precision_answered_every_question_joined_by_key(ablation_run):
    path = ablation_run / "data/07_model_output/probes/medgemma_quantization.jsonl"
    preds = [json.loads(line) for line in path.read_text().splitlines()]
    expected = sorted(item["qa_id"] for item in _qa_items())
    for precision in ("full", "int8", "int4"):
        mine = [p for p in preds if p["variant"] == precision]
        assert sorted(p["qa_id"] for p in mine) == expected
        assert all(p["status"] == "ok" and p["efficiency"]["precision"] == precision
                   for p in mine)
    checkpoints = ablation_run / "data/07_model_output/probes/quantization"
    assert sorted(c.name for c in checkpoints.iterdir()) == [
        "medgemma__full.jsonl", "medgemma__int4.jsonl", "medgemma__int8.jsonl"]


@pytest.mark.slow
def test_the_report_shows_the_ablation_in_its_efficiency_section(ablation_run):
    from kedro.io import DataCatalog

    from ct_spatial_bench.reporting.efficiency import efficiency_sections

    catalog = DataCatalog.from_config({"quantization_tables": {
        "type": "ct_spatial_bench.datasets.optional_dataset.OptionalDataset",
        "dataset": {"type": "partitions.PartitionedDataset",
                    "path": str(ablation_run / "data/08_reporting/probes/quantization"),
                    "dataset": {"type": "pandas.CSVDataset"}, "filename_suffix": ".csv"}}})
    preds = [json.loads(line) for line in (
        ablation_run / "data/07_model_output/probes/medgemma_quantization.jsonl"
    ).read_text().splitlines()]
    html = efficiency_sections(preds, catalog.load("quantization_tables"))["Efficiency"]
    assert "Quantization ablation" in html and html.count("quanto") >= 2
    assert "not run" not in html
    assert "not run" in efficiency_sections(preds, None)["Efficiency"]
