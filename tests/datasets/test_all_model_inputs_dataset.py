"""AllModelInputsDataset: every spec's model inputs as one dataset. A save-then-load round trip
through the spec datasets it names (the loaded arrays, fingerprints and sources are what was
saved); a spec without inputs is absent; a folder beside the specs' is listed, never loaded."""

from __future__ import annotations

import numpy as np
import pytest

from ct_spatial_bench.datasets import AllModelInputsDataset, ModelInputsDataset
from ct_spatial_bench.imaging.batch import SpecPartitions


def _config(root) -> dict:
    """As in conf/base/catalog.yml: npy specs from the {spec} template, ras_hu stored apart."""
    return {
        "default": {"type": "ct_spatial_bench.datasets.ModelInputsDataset",
                    "path": f"{root}/inputs/{{spec}}",
                    "dataset": "ct_spatial_bench.datasets.NpyDataset", "filename_suffix": ".npy"},
        "specs": {"ras_hu": {"type": "ct_spatial_bench.datasets.ModelInputsDataset",
                             "path": f"{root}/elsewhere/ras_hu",
                             "dataset": "ct_spatial_bench.datasets.NiftiDataset",
                             "filename_suffix": ".nii.gz"}},
    }


def test_save_then_load_round_trip_through_each_specs_dataset(tmp_path, ras_volume):
    small = {"case_0": np.arange(6.0).reshape(2, 3), "case_1": np.ones((2, 2), np.int16)}
    source = {"case_0": {"bytes": 10, "mtime_ns": 1, "sha256": "aa"}}
    AllModelInputsDataset(**_config(tmp_path)).save({
        "small": SpecPartitions(small, fingerprint="f-small", sources=source),
        "ras_hu": SpecPartitions({"case_0": ras_volume}, fingerprint="f-ras"),
    })
    # written where each spec's own dataset writes, as that dataset would
    assert sorted(p.name for p in (tmp_path / "inputs" / "small").glob("*.npy")) == [
        "case_0.npy", "case_1.npy"]
    assert (tmp_path / "elsewhere" / "ras_hu" / "case_0.nii.gz").is_file()

    loaded = AllModelInputsDataset(**_config(tmp_path)).load()
    assert sorted(loaded) == ["ras_hu", "small"]
    spec_small = loaded["small"]()
    assert isinstance(spec_small, SpecPartitions) and spec_small.fingerprint == "f-small"
    assert spec_small.sources == source and sorted(spec_small) == ["case_0", "case_1"]
    for key, array in small.items():
        read = spec_small[key]()
        np.testing.assert_array_equal(read, array)
        assert read.dtype == array.dtype
    spec_ras = loaded["ras_hu"]()
    assert spec_ras.fingerprint == "f-ras"
    image = spec_ras["case_0"]()
    np.testing.assert_array_equal(np.asanyarray(image.dataobj), np.asanyarray(ras_volume.dataobj))
    np.testing.assert_array_equal(image.affine, ras_volume.affine)


def test_the_same_as_loading_each_specs_dataset(tmp_path):
    """What preprocessing read before, one OptionalDataset per spec, is what each loader gives."""
    config = _config(tmp_path)
    AllModelInputsDataset(**config).save({"small": SpecPartitions({"a": np.zeros(2)}, "fp")})
    alone = ModelInputsDataset(**{k: v for k, v in config["default"].items() if k != "type"}
                               | {"path": str(tmp_path / "inputs" / "small")}).load()
    together = AllModelInputsDataset(**config).load()["small"]()
    assert (dict(together).keys(), together.fingerprint, together.sources) == (
        dict(alone).keys(), alone.fingerprint, alone.sources)


def test_a_spec_without_inputs_is_absent_and_nothing_exists_before_the_first_save(tmp_path):
    dataset = AllModelInputsDataset(**_config(tmp_path))
    assert not dataset.exists() and dataset.load() == {}  # no folders at all yet
    (tmp_path / "inputs" / "empty").mkdir(parents=True)  # a spec folder with no inputs
    (tmp_path / "inputs" / "empty" / ".spec.json").write_text('{"fingerprint": "x"}\n')
    dataset.save({"small": SpecPartitions({"a": np.zeros(2)}, fingerprint="fp")})
    assert sorted(dataset.load()) == ["small"] and dataset.exists()


def test_a_folder_beside_the_specs_is_listed_never_loaded(tmp_path):
    """Listing is not loading: a spec's loader, when not called, leaves its folder as it is
    (loading a ModelInputsDataset deletes the temporary files a killed write left)."""
    import subprocess
    import sys

    from ct_spatial_bench.fileio import _HOST

    other = tmp_path / "inputs" / "old_spec"
    other.mkdir(parents=True)
    np.save(other / "case_0.npy", np.zeros(2))
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()
    orphan = other / f".case_1.npy.{_HOST}-{dead}.tmp"  # what a killed write leaves
    orphan.write_bytes(b"half a write")
    (tmp_path / "inputs" / "manifest_parts").mkdir()
    (tmp_path / "inputs" / "manifest_parts" / "shard-0-of-2.jsonl").write_text("{}\n")
    loaded = AllModelInputsDataset(**_config(tmp_path)).load()
    assert sorted(loaded) == ["old_spec"]  # manifest_parts holds no .npy: no spec's inputs
    assert orphan.exists()
    loaded["old_spec"]()
    assert not orphan.exists()


def test_a_default_path_without_the_spec_folder_is_refused(tmp_path):
    config = _config(tmp_path)
    config["default"]["path"] = str(tmp_path / "inputs")
    with pytest.raises(ValueError, match=r"default's path must contain \{spec\}"):
        AllModelInputsDataset(**config)
