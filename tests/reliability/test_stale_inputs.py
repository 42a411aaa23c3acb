"""``inference_<model>`` run alone after a volume changed stops in one line instead of answering
from the volume's old input (before: it served the old answers); a merge of shard parts made
before a question changed stops, naming the question."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

SPEC = {"orientation": "RAS", "spacing": None, "window": None, "shape": None, "output": "nifti"}
QUESTION = "Is the nodule in the left lung?"


def _volume(path: Path, seed: int) -> None:
    import nibabel as nib

    data = np.random.default_rng(seed).integers(-1000, 1000, size=(9, 8, 7)).astype(np.int16)
    nib.save(nib.Nifti1Image(data, np.diag([0.8, 0.8, 2.0, 1.0])), str(path))


def _catalog(tmp_path: Path, keys: list[str]):
    from kedro.io import DataCatalog

    inputs = {"type": "ct_spatial_bench.datasets.ModelInputsDataset",
              "path": str(tmp_path / "inputs" / "ras_hu"),
              "dataset": "ct_spatial_bench.datasets.NiftiDataset", "filename_suffix": ".nii.gz"}
    catalog = DataCatalog.from_config({
        "raw_volumes": {"type": "partitions.PartitionedDataset", "path": str(tmp_path / "raw"),
                        "dataset": "ct_spatial_bench.datasets.NiftiDataset",
                        "filename_suffix": ".nii.gz"},
        "preprocessing_manifest": {"type": "ct_spatial_bench.datasets.JsonLinesDataset",
                                   "filepath": str(tmp_path / "manifest.jsonl")},
        "model_inputs_ras_hu": inputs,
        "existing_model_inputs": {"type": "ct_spatial_bench.datasets.AllModelInputsDataset",
                                  "specs": {"ras_hu": inputs}},
        "geometry.predictions": {"type": "ct_spatial_bench.datasets.JsonLinesDataset",
                                 "filepath": str(tmp_path / "geometry.jsonl")},
    })
    catalog["benchmark_qa"] = [{"qa_id": f"{k}.nii.gz::0", "case_id": f"{k}.nii.gz",
                                "image_path": f"{k}.nii.gz", "question": QUESTION,
                                "answer": "Yes"} for k in keys]
    catalog["params:preprocessing"] = {"workers": 1, "specs": {"ras_hu": SPEC}}
    catalog["params:geometry.inference"] = {
        "model": "geometry", "checkpoint": str(tmp_path / "ck.jsonl")}
    return catalog


def _run(catalog, *pipelines):
    from kedro.runner import SequentialRunner

    from ct_spatial_bench.pipelines.inference import create_pipeline as inference
    from ct_spatial_bench.pipelines.preprocessing import create_pipeline as preprocessing

    made = {"preprocessing": preprocessing(("ras_hu",)),
            "inference": inference("geometry", input_spec="ras_hu")}
    SequentialRunner().run(sum((made[p] for p in pipelines[1:]), made[pipelines[0]]), catalog)


@pytest.mark.slow
def test_inference_alone_after_a_volume_changed_stops_in_one_line(tmp_path):
    from ct_spatial_bench.fileio import source_fingerprint
    from ct_spatial_bench.imaging.freshness import StaleInputsError

    (tmp_path / "raw").mkdir()
    for seed, key in enumerate(["kept", "replaced"]):
        _volume(tmp_path / "raw" / f"{key}.nii.gz", seed)
    catalog = _catalog(tmp_path, ["kept", "replaced"])
    _run(catalog, "preprocessing", "inference")
    first = {p["qa_id"]: p for p in catalog.load("geometry.predictions")}
    expected = source_fingerprint(tmp_path / "raw" / "kept.nii.gz")["sha256"]
    assert first["kept.nii.gz::0"]["volume_fingerprint"] == expected  # the source's content

    _volume(tmp_path / "raw" / "replaced.nii.gz", seed=99)  # the same name, another volume
    with pytest.raises(Exception) as stopped:
        _run(_catalog(tmp_path, ["kept", "replaced"]), "inference")
    error = stopped.value
    while not isinstance(error, StaleInputsError) and error.__cause__ is not None:
        error = error.__cause__
    assert isinstance(error, StaleInputsError)
    message = str(error)
    assert "\n" not in message and "inference_geometry: 1 volume(s) changed" in message
    assert "(replaced)" in message and "--pipelines preprocessing" in message

    catalog = _catalog(tmp_path, ["kept", "replaced"])
    _run(catalog, "preprocessing", "inference")  # as the message says: then it answers
    again = {p["qa_id"]: p for p in catalog.load("geometry.predictions")}
    assert again["replaced.nii.gz::0"]["input_fingerprint"] != \
        first["replaced.nii.gz::0"]["input_fingerprint"]
    assert again["kept.nii.gz::0"] == first["kept.nii.gz::0"]  # resumed, not asked again


def test_a_merge_of_parts_made_before_a_question_changed_stops(tmp_path):
    from identity_helpers import VoxelReader, loader, qa_rows, volume

    from ct_spatial_bench.inference.loop import run_model
    from ct_spatial_bench.pipelines.inference.merge import merge_predictions
    from ct_spatial_bench.records import normalise_qa_items
    from ct_spatial_bench.sharding import ShardError, select_shard

    voxels = {f"v{i}": (i % 4, 0, 3 - i % 4) for i in range(6)}
    qa = normalise_qa_items(qa_rows({k: (v, ["left", "upper"]) for k, v in voxels.items()}))
    images = loader({k: volume(v) for k, v in voxels.items()})
    parts = {}
    for index in range(2):
        shard = select_shard(qa, index, 2)
        rows = run_model(VoxelReader(), shard, images, {}, progress=False)
        parts[f"shard-{index}-of-2"] = (lambda rows=rows: rows)
    params = {"model": "voxel_reader", "num_shards": 2}
    assert len(merge_predictions(qa, parts, params)) == 12
    edited = [dict(item) for item in qa]
    edited[3]["question"] = "Is the bright voxel in the lower half?"
    with pytest.raises(ShardError, match=rf"1 prediction\(s\) in the parts answer questions "
                                         rf"that changed since \({edited[3]['qa_id']}\)"):
        merge_predictions(edited, parts, params)
