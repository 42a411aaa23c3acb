"""Artifacts carry their split and QA fingerprint; another QA set's files are refused by name."""

import json
from types import SimpleNamespace

import pytest
from kedro.io import DataCatalog

from ct_spatial_bench.datasets import QADataset
from ct_spatial_bench.datasets.jsonlines_dataset import JsonLinesDataset
from ct_spatial_bench.datasets.predictions_dataset import PredictionsDataset
from ct_spatial_bench.run_guards import ArtifactStampHook
from ct_spatial_bench.sharding import PredictionPart
from ct_spatial_bench.stamps import QASetMismatchError, qa_fingerprint, stamps_of


def _qa(answer="left"):
    return [{"qa_id": "v1.nii.gz::0", "case_id": "v1", "image_path": "v1.nii.gz",
             "question": "Which side is the nodule on?", "answer": answer, "categories": [],
             "source": "t", "meta": {}}]


def _hook(catalog, split="sanity"):
    hook = ArtifactStampHook()
    root = next(iter(catalog.values()))._filepath.parent  # tmp_path: the run root here
    hook.after_context_created(SimpleNamespace(
        env=None, project_path=root, config_loader={"globals": {"run_root": ".", "split": split}}))
    hook.before_pipeline_run({}, None, catalog)
    return hook


def _catalog(tmp_path):
    return DataCatalog({
        "benchmark_qa": QADataset(filepath=str(tmp_path / "qa.jsonl")),
        "m.predictions": PredictionsDataset(filepath=str(tmp_path / "pred" / "m.jsonl"),
                                            parts_path=str(tmp_path / "parts" / "m")),
        "prediction_files": JsonLinesDataset(filepath=str(tmp_path / "pred" / "m.jsonl")),
    })


def _save(hook, catalog, name, data):
    catalog.save(name, data)
    hook.after_dataset_saved(name, data, None)


def test_fingerprint_is_of_the_questions_not_the_row_order():
    two = _qa() + [{**_qa()[0], "qa_id": "v1.nii.gz::1", "question": "Upper or lower?"}]
    assert qa_fingerprint(two) == qa_fingerprint(list(reversed(two)))
    assert qa_fingerprint(_qa("left")) != qa_fingerprint(_qa("right"))


def test_predictions_of_another_qa_set_are_refused_naming_the_file(tmp_path):
    catalog = _catalog(tmp_path)
    hook = _hook(catalog)
    _save(hook, catalog, "benchmark_qa", _qa("left"))
    _save(hook, catalog, "m.predictions", [{"qa_id": "v1.nii.gz::0", "prediction": "left"}])
    [(artifact, stamp)] = stamps_of(tmp_path / "pred" / "m.jsonl")
    assert stamp == {"split": "sanity", "qa_fingerprint": qa_fingerprint(_qa("left")),
                     "dataset": "m.predictions"}
    hook.before_dataset_loaded("m.predictions", None)  # same QA set: fine

    QADataset(filepath=str(tmp_path / "qa.jsonl")).save(_qa("right"))  # the QA set changed
    later = _hook(catalog)
    with pytest.raises(QASetMismatchError, match=r"pred/m\.jsonl \(m\.predictions\)"):
        later.before_dataset_loaded("m.predictions", None)


def test_a_shard_part_is_stamped_where_it_is_written(tmp_path):
    catalog = _catalog(tmp_path)
    hook = _hook(catalog, split="full")
    _save(hook, catalog, "benchmark_qa", _qa())
    _save(hook, catalog, "m.predictions", PredictionPart([{"qa_id": "v1.nii.gz::0"}], 1, 2))
    [(artifact, stamp)] = stamps_of(tmp_path / "parts" / "m")
    assert artifact.name == "shard-1-of-2.jsonl" and stamp["split"] == "full"


def test_a_file_of_the_other_split_is_refused(tmp_path):
    catalog = _catalog(tmp_path)
    _save(_hook(catalog, split="full"), catalog, "m.predictions", [{"qa_id": "a"}])
    with pytest.raises(QASetMismatchError, match="written by the full split, not sanity"):
        _hook(catalog, split="sanity").before_dataset_loaded("prediction_files", None)
    assert json.loads((tmp_path / "pred" / ".m.jsonl.stamp.json").read_text())["split"] == "full"


def test_files_outside_the_run_root_are_neither_stamped_nor_checked(tmp_path):
    source = tmp_path / "source"
    catalog = DataCatalog({"qa_candidates": QADataset(filepath=str(source / "qa.jsonl"))})
    hook = ArtifactStampHook()
    hook.after_context_created(SimpleNamespace(
        env=None, project_path=tmp_path, config_loader={"globals": {"run_root": "out"}}))
    hook.before_pipeline_run({}, None, catalog)
    _save(hook, catalog, "qa_candidates", _qa())
    assert stamps_of(source / "qa.jsonl") == []


def test_what_a_run_makes_before_its_qa_carries_no_fingerprint(tmp_path):
    """The sanity split writes its raw data, then its QA: a changed seed must not make the raw
    data look like another QA set's."""
    from kedro.pipeline import Pipeline, node

    catalog = _catalog(tmp_path)
    catalog["prior"] = JsonLinesDataset(filepath=str(tmp_path / "prior.jsonl"))
    pipeline = Pipeline([node(lambda: None, None, "prior", name="raw"),
                         node(lambda p: None, "prior", "benchmark_qa", name="filter"),
                         node(lambda q: None, "benchmark_qa", "m.predictions", name="infer")])
    _save(_hook(catalog), catalog, "benchmark_qa", _qa("left"))  # an earlier run's QA
    hook = _hook(catalog)
    hook.before_pipeline_run({}, pipeline, catalog)
    _save(hook, catalog, "prior", _qa("right"))
    _save(hook, catalog, "benchmark_qa", _qa("right"))
    _save(hook, catalog, "m.predictions", [{"qa_id": "v1.nii.gz::0"}])
    assert stamps_of(tmp_path / "prior.jsonl")[0][1]["qa_fingerprint"] is None
    assert stamps_of(tmp_path / "pred" / "m.jsonl")[0][1]["qa_fingerprint"] == qa_fingerprint(
        _qa("right"))
    hook.before_dataset_loaded("prior", None)  # no mismatch raised
