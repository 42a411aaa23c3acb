"""Values no one can score are errors where they are read, never wrong answers (before:
``"prediction": null`` was judged incorrect, geometry 1.000 -> 0.981; a number crashed with a
TypeError naming nothing; a 2D image stopped the run with IndexError, a 4D one was preprocessed
from its first frame, and a zero-determinant affine gave a TypeError about None).
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from ct_spatial_bench.models.base import Answer, ModelAdapter
from ct_spatial_bench.records import MAX_PREDICTION_CHARS

QUESTION = "Is the nodule in the left lung?"


def _write(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


def _pred(qa_id, value):
    return {"qa_id": qa_id, "model": "geometry", "prediction": value, "status": "ok",
            "error": None, "prompt": QUESTION}


BAD = {"q1": None, "q2": 3, "q3": ["left"], "q4": "left " * (MAX_PREDICTION_CHARS // 5 + 1)}
CAUSES = {"q1": "prediction is null", "q2": "prediction is int, not text",
          "q3": "prediction is list, not text", "q4": "characters (more than"}


def test_unusable_predictions_are_data_errors_outside_accuracy(tmp_path):
    """Eleven answers, all right, and four unusable values: accuracy 1.0 over the eleven, four
    errors, each naming its file, line and cause."""
    from kedro.io import DataCatalog
    from kedro.runner import SequentialRunner

    from ct_spatial_bench.judges.jury import jury_decision_rows
    from ct_spatial_bench.metrics.accuracy import accuracy_by_model
    from ct_spatial_bench.pipelines.judging.pipeline import create_pipeline
    from ct_spatial_bench.records import decisions_by_item

    good = {f"g{i}": "Yes" for i in range(11)}
    rows = [_pred(qa_id, value) for qa_id, value in {**good, **BAD}.items()]
    path = tmp_path / "geometry.jsonl"
    _write(path, rows)
    qa = [{"qa_id": qa_id, "case_id": "c", "image_path": "c.nii.gz", "question": QUESTION,
           "answer": "Yes", "categories": []} for qa_id in {**good, **BAD}]
    catalog = DataCatalog.from_config({
        "geometry.predictions": {"type": "ct_spatial_bench.datasets.predictions_dataset."
                                         "PredictionsDataset", "filepath": str(path)},
        "verdicts": {"type": "ct_spatial_bench.datasets.JsonLinesDataset",
                     "filepath": str(tmp_path / "verdicts.jsonl")},
        "pooled_predictions": {"type": "ct_spatial_bench.datasets.JsonLinesDataset",
                               "filepath": str(tmp_path / "pooled.jsonl")},
    })
    catalog["benchmark_qa"] = qa
    catalog["params:judging"] = {"judges": ["rule"]}
    catalog["llm_api_keys"] = {}
    SequentialRunner().run(create_pipeline(models=["geometry"]), catalog)
    pooled = {p["qa_id"]: p for p in catalog.load("pooled_predictions")}
    for line, qa_id in enumerate({**good, **BAD}, start=1):
        if qa_id in BAD:
            assert pooled[qa_id]["status"] == "error" and pooled[qa_id]["error_kind"] == "data"
            assert pooled[qa_id]["error"].startswith(f"{path}:{line}: ")
            assert CAUSES[qa_id] in pooled[qa_id]["error"]
    verdicts = catalog.load("verdicts")
    assert {v["verdict"] for v in verdicts if v["qa_id"] in BAD} == {"failed"}
    decisions = decisions_by_item(jury_decision_rows(verdicts))
    [row] = accuracy_by_model(qa, list(pooled.values()), decisions, n_boot=10)
    assert (row["accuracy"], row["n_judged"], row["n_errors"]) == (1.0, 11, 4)


def test_a_prediction_that_cannot_be_keyed_is_named():
    from ct_spatial_bench.records import RecordError, checked_prediction

    with pytest.raises(RecordError, match="p.jsonl:4: missing or non-text field 'model'"):
        checked_prediction({"qa_id": "q", "model": None, "prediction": "x"}, "p.jsonl:4")


def test_a_qa_item_without_a_question_is_named(tmp_path):
    from ct_spatial_bench.records import RecordError, load_qa_items

    path = tmp_path / "qa.jsonl"
    _write(path, [{"image_path": "a.nii.gz", "question": "Where?", "answer": "left"},
                  {"image_path": "a.nii.gz", "question": "   ", "answer": "left"}])
    with pytest.raises(RecordError, match=f"{path}:2: the question is empty"):
        load_qa_items(path)


def _nifti(path, data, affine):
    import nibabel as nib

    image = nib.Nifti1Image(data, None)
    image.header.set_sform(affine, code=1)  # written as given, however singular
    image.header.set_qform(None, code=0)
    nib.save(image, str(path))


VOLUMES = {  # name: (voxels, affine, what the error must say)
    "flat": (np.zeros((9, 8), np.int16), np.eye(4), "2D image"),
    "series": (np.zeros((9, 8, 7, 2), np.int16), np.eye(4), "4D image"),
    "singular": (np.zeros((9, 8, 7), np.int16), np.diag([1.0, 1.0, 0.0, 1.0]), "singular"),
    "nan_affine": (np.zeros((9, 8, 7), np.int16), np.diag([1.0, np.nan, 1.0, 1.0]),
                   "non-finite"),
}


def test_bad_volumes_are_data_errors_naming_the_volume_and_their_items_are_not_asked(tmp_path):
    from identity_helpers import VoxelReader
    from kedro_datasets.partitions import PartitionedDataset

    from ct_spatial_bench.imaging.batch import VolumeJob, preprocess_volume
    from ct_spatial_bench.imaging.specs import InputSpec
    from ct_spatial_bench.inference.loop import image_loader, run_model

    for name, (data, affine, _) in VOLUMES.items():
        _nifti(tmp_path / f"{name}.nii.gz", data, affine)
    spec = InputSpec.from_params("ras_hu", {"orientation": "LPS", "window": [-1000, 1000],
                                            "shape": [4, 4, 4], "axis_order": "zyx",
                                            "output": "npy"})
    volumes = PartitionedDataset(path=str(tmp_path), dataset="ct_spatial_bench.datasets."
                                 "NiftiDataset", filename_suffix=".nii.gz").load()
    made = {}
    for name, (_, _, cause) in VOLUMES.items():
        row, outputs = preprocess_volume(VolumeJob(name, volumes[name], specs=(spec,)))
        assert row["status"] == "error" and outputs == {}
        assert row["error"].startswith(f"VolumeError ({tmp_path / name}.nii.gz): ")
        assert cause in row["error"]
        made.update(outputs)
    items = [{"qa_id": f"{name}.nii.gz::0", "image_path": f"{name}.nii.gz",
              "question": QUESTION, "answer": "Yes"} for name in VOLUMES]
    reader = VoxelReader()
    predictions = run_model(reader, items, image_loader("ras_hu", made), {}, progress=False)
    assert reader.asked == []
    assert {(p["status"], p["error_kind"]) for p in predictions} == {("error", "data")}


class _AlwaysYes(ModelAdapter):
    name = "always_yes"
    input_spec = "ras_hu"

    def answer_one(self, image, question):
        return Answer("Yes", question.text)


def test_a_singular_volume_given_to_a_model_is_a_data_error():
    """An input that reaches the engine as a NIfTI image is checked there too."""
    import nibabel as nib

    from ct_spatial_bench.inference.loop import run_model

    good = nib.Nifti1Image(np.zeros((4, 4, 4), np.float32), np.eye(4))
    singular = nib.Nifti1Image(np.zeros((4, 4, 4), np.float32), np.eye(4))
    singular._affine = np.diag([1.0, 0.0, 1.0, 1.0])  # as a reader handing over a bad header
    images = {"good.nii.gz": good, "bad.nii.gz": singular}
    items = [{"qa_id": f"{k}::0", "image_path": k, "question": QUESTION} for k in images]
    by_id = {p["qa_id"]: p for p in run_model(_AlwaysYes(), items, images.get, {},
                                                progress=False)}
    assert by_id["good.nii.gz::0"]["status"] == "ok"
    assert by_id["bad.nii.gz::0"]["error_kind"] == "data"
    assert "bad.nii.gz" in by_id["bad.nii.gz::0"]["error"]
    assert "singular" in by_id["bad.nii.gz::0"]["error"]
