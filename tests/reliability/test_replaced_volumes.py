"""A volume replaced or truncated after it was preprocessed is not answered from its old input
(before: the old inputs were kept, and the report said 1.0 where a fresh run gives 0.904)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

SPECS = {"small": {"orientation": "LPS", "window": [-1000, 1000], "shape": [4, 6, 5],
                   "axis_order": "zyx", "output": "npy"}}


def _volume(path: Path, seed: int, value=None) -> None:
    import nibabel as nib

    data = np.random.default_rng(seed).integers(-1000, 1000, size=(9, 8, 7)).astype(np.float32)
    if value is not None:
        data[0, 0, 0] = value
    nib.save(nib.Nifti1Image(data, np.diag([0.8, 0.8, 2.0, 1.0])), str(path))


def _run(tmp_path: Path, keys) -> dict:
    """The preprocessing pipeline as ``kedro run`` runs it, on a catalog made here."""
    from kedro.io import DataCatalog
    from kedro.runner import SequentialRunner

    from ct_spatial_bench.pipelines.preprocessing import create_pipeline

    entry = {"type": "ct_spatial_bench.datasets.ModelInputsDataset",
             "path": str(tmp_path / "inputs" / "small"),
             "dataset": "ct_spatial_bench.datasets.NpyDataset", "filename_suffix": ".npy"}
    catalog = DataCatalog.from_config({
        "raw_volumes": {"type": "partitions.PartitionedDataset", "path": str(tmp_path / "raw"),
                        "dataset": "ct_spatial_bench.datasets.NiftiDataset",
                        "filename_suffix": ".nii.gz"},
        "preprocessing_manifest": {"type": "ct_spatial_bench.datasets.JsonLinesDataset",
                                   "filepath": str(tmp_path / "manifest.jsonl")},
        "model_inputs_small": entry,
        "existing_model_inputs": {"type": "ct_spatial_bench.datasets.AllModelInputsDataset",
                                  "specs": {"small": entry}},
    })
    catalog["benchmark_qa"] = [{"qa_id": f"{k}::0", "image_path": f"{k}.nii.gz"} for k in keys]
    catalog["params:preprocessing"] = {"workers": 1, "specs": SPECS}
    SequentialRunner().run(create_pipeline(tuple(SPECS)), catalog)
    return {row["volume_key"]: row for row in catalog.load("preprocessing_manifest")}


def _expected(path: Path) -> np.ndarray:
    import nibabel as nib

    from ct_spatial_bench.imaging.specs import InputSpec, apply_spec

    return apply_spec(nib.load(str(path)), InputSpec.from_params("small", SPECS["small"]))


@pytest.mark.slow
def test_replaced_truncated_and_non_finite_volumes(tmp_path):
    raw, inputs = tmp_path / "raw", tmp_path / "inputs" / "small"
    raw.mkdir()
    keys = ["kept", "replaced", "truncated", "nan"]
    for seed, key in enumerate(keys):
        _volume(raw / f"{key}.nii.gz", seed)
    first = _run(tmp_path, keys)
    assert all(first[k]["made"] == ["small"] and first[k]["source_fingerprint"] for k in keys)
    kept_stamp = (inputs / "kept.npy").stat().st_mtime_ns

    _volume(raw / "replaced.nii.gz", seed=99)  # another volume under the same name
    data = (raw / "truncated.nii.gz").read_bytes()
    (raw / "truncated.nii.gz").write_bytes(data[: len(data) // 2])
    _volume(raw / "nan.nii.gz", seed=3, value=np.nan)
    second = _run(tmp_path, keys)

    assert second["kept"]["made"] == [] and second["kept"]["reused"] == ["small"]
    assert (inputs / "kept.npy").stat().st_mtime_ns == kept_stamp
    assert second["replaced"]["made"] == ["small"]
    assert second["replaced"]["source_fingerprint"] != first["replaced"]["source_fingerprint"]
    np.testing.assert_array_equal(np.load(inputs / "replaced.npy"),
                                  _expected(raw / "replaced.nii.gz"))
    # Data errors, listed by volume, and their old inputs gone: nothing answers from them.
    assert second["truncated"]["status"] == "error" and "truncated" in second["truncated"]["error"]
    assert second["nan"]["status"] == "error" and "not finite" in second["nan"]["error"]
    assert not (inputs / "truncated.npy").exists() and not (inputs / "nan.npy").exists()
    assert str(raw / "truncated.nii.gz") in second["truncated"]["error"]


def test_orphaned_temporaries_of_a_dead_writer_are_removed(tmp_path):
    import subprocess
    import sys

    from ct_spatial_bench.datasets import ModelInputsDataset
    from ct_spatial_bench.fileio import _HOST

    folder = tmp_path / "small"
    folder.mkdir()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()
    orphan = folder / f".case_0.npy.{_HOST}-{dead}.abc123.npy"
    live = folder / f".case_1.npy.{_HOST}-{os.getpid()}.def456.npy"
    other_host = folder / f".case_2.npy.elsewhere-{dead}.ghi789.npy"
    for path in (orphan, live, other_host):
        path.write_bytes(b"x" * 1024)
    np.save(folder / "case_3.npy", np.zeros(2))
    dataset = ModelInputsDataset(path=str(folder), dataset="ct_spatial_bench.datasets.NpyDataset",
                                 filename_suffix=".npy")
    assert list(dataset.load()) == ["case_3"]
    assert not orphan.exists() and live.exists() and other_host.exists()


def test_inputs_made_before_fingerprints_are_adopted_then_checked(tmp_path):
    raw, inputs = tmp_path / "raw", tmp_path / "inputs" / "small"
    raw.mkdir()
    for seed, key in enumerate(["a", "b"]):
        _volume(raw / f"{key}.nii.gz", seed)
    _run(tmp_path, ["a", "b"])
    (inputs / ".sources.json").unlink()  # as a folder made by the code before this change
    adopted = _run(tmp_path, ["a", "b"])
    assert all(row["made"] == [] for row in adopted.values())  # no rebuild of a whole split
    assert (inputs / ".sources.json").is_file()
    _volume(raw / "b.nii.gz", seed=7)
    after = _run(tmp_path, ["a", "b"])
    assert (after["a"]["made"], after["b"]["made"]) == ([], ["small"])
    np.testing.assert_array_equal(np.load(inputs / "b.npy"), _expected(raw / "b.nii.gz"))
