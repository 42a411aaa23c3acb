"""preprocess_volumes: one decode per volume for every spec, parallel, written as it goes,
resumable, and in the folders the catalog reads."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml

from ct_spatial_bench.datasets import NiftiDataset
from ct_spatial_bench.imaging.specs import InputSpec, apply_spec
from ct_spatial_bench.pipelines.preprocessing.nodes import preprocess_volumes

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SPECS = {
    "ras_hu": {"orientation": "RAS", "output": "nifti"},
    "small": {"orientation": "LPS", "window": [-1000, 1000], "shape": [4, 6, 5],
              "axis_order": "zyx", "output": "npy"},
}


def _volumes(folder: Path, count: int) -> dict:
    import nibabel as nib

    rng = np.random.default_rng(0)
    loaders = {}
    for index in range(count):
        data = rng.integers(-1000, 1000, size=(9, 8, 7)).astype(np.int16)
        path = folder / f"case_{index}.nii.gz"
        nib.save(nib.Nifti1Image(data, np.diag([0.8, 0.8, 2.0, 1.0])), str(path))
        loaders[f"case_{index}"] = NiftiDataset(str(path)).load
    return loaders


def _qa(keys) -> list[dict]:
    return [{"qa_id": f"{k}::{i}", "image_path": f"{k}.nii.gz"} for k in keys for i in range(3)]


def _params(out: Path, specs=SPECS, workers=1) -> dict:
    return {"output_dir": str(out), "workers": workers, "specs": specs}


@pytest.mark.slow
def test_parallel_outputs_equal_apply_spec_and_a_missing_volume_is_recorded(tmp_path):
    import nibabel as nib

    loaders = _volumes(tmp_path, 3)
    out = tmp_path / "inputs"
    *saved, manifest = preprocess_volumes(_qa([*loaders, "absent"]), loaders,
                                          _params(out, workers=2), ("ras_hu", "small"))
    assert saved == [{}, {}]  # written as they finish, not held for the catalog to save
    by_key = {row["volume_key"]: row for row in manifest}
    assert by_key["absent"]["status"] == "error" and "absent" in by_key["absent"]["error"]
    for key in loaders:
        assert by_key[key]["made"] == ["ras_hu", "small"] and by_key[key]["status"] == "ok"
        source = nib.load(str(tmp_path / f"{key}.nii.gz"))
        expected = apply_spec(source, InputSpec.from_params("small", SPECS["small"]))
        np.testing.assert_array_equal(np.load(out / "small" / f"{key}.npy"), expected)
        written = nib.load(str(out / "ras_hu" / f"{key}.nii.gz"))
        assert written.get_data_dtype() == np.int16  # HU kept as integers
        np.testing.assert_array_equal(np.asanyarray(written.dataobj),
                                      np.asanyarray(source.dataobj))


def test_a_rerun_decodes_nothing_and_a_changed_spec_is_remade(tmp_path, monkeypatch):
    import ct_spatial_bench.imaging.decode as decode

    loaders = _volumes(tmp_path, 2)
    out = tmp_path / "inputs"
    preprocess_volumes(_qa(loaders), loaders, _params(out), ("ras_hu", "small"))
    stamp = (out / "small" / "case_0.npy").stat().st_mtime_ns

    def no_decoding(*args, **kwargs):
        raise AssertionError("a finished volume was decoded again")

    monkeypatch.setattr(decode, "decode_volume", no_decoding)
    *_, manifest = preprocess_volumes(_qa(loaders), loaders, _params(out), ("ras_hu", "small"))
    assert all(r["made"] == [] and r["reused"] == ["ras_hu", "small"] for r in manifest)
    assert (out / "small" / "case_0.npy").stat().st_mtime_ns == stamp
    monkeypatch.undo()

    changed = {**SPECS, "small": {**SPECS["small"], "shape": [3, 3, 3]}}
    *_, manifest = preprocess_volumes(_qa(loaders), loaders, _params(out, changed),
                                      ("ras_hu", "small"))
    assert all(r["made"] == ["small"] and r["reused"] == ["ras_hu"] for r in manifest)
    assert np.load(out / "small" / "case_0.npy").shape == (3, 3, 3)


def test_output_dir_is_where_the_catalog_reads_each_spec():
    """The node writes where ``model_inputs_<spec>`` reads: same folder, same suffix."""
    catalog = yaml.safe_load((PROJECT_ROOT / "conf/base/catalog.yml").read_text())
    params = yaml.safe_load(
        (PROJECT_ROOT / "conf/base/parameters_preprocessing.yml").read_text())["preprocessing"]
    for name, spec in params["specs"].items():
        entry = catalog.get(f"model_inputs_{name}") or {
            "path": catalog["model_inputs_{spec}"]["path"].replace("{spec}", name),
            "filename_suffix": catalog["model_inputs_{spec}"]["filename_suffix"]}
        suffix = entry.get("filename_suffix", ".npy")
        assert entry["path"] == f"{params['output_dir']}/{name}", name
        assert suffix == (".npy" if spec.get("output") == "npy" else ".nii.gz"), name


def test_ct_rate_metadata_fills_what_a_raw_header_lacks_and_spares_a_fixed_one(tmp_path):
    """A raw CT-RATE volume (unit spacing, stored values 0..4095, no scaling) gets spacing and HU
    from the metadata CSV; a fixed one already in HU with real spacing is left alone."""
    import nibabel as nib

    from ct_spatial_bench.imaging.orientation import voxel_spacing

    raw = np.full((6, 5, 4), 24, dtype=np.int16)  # air at intercept -1024
    raw[2:4, 2:3, 1:3] = 1064  # +40 HU soft tissue
    nib.save(nib.Nifti1Image(raw, np.eye(4)), str(tmp_path / "valid_1_a_1.nii.gz"))
    fixed = (raw.astype(np.int32) - 1024).astype(np.int16)
    nib.save(nib.Nifti1Image(fixed, np.diag([0.7, 0.7, 1.5, 1.0])),
             str(tmp_path / "valid_2_a_1.nii.gz"))
    csv_path = tmp_path / "validation_metadata.csv"
    csv_path.write_text(
        "VolumeName,XYSpacing,ZSpacing,RescaleSlope,RescaleIntercept\n"
        'valid_1_a_1.nii.gz,"[0.5, 0.5]",2.0,1,-1024\n'
        'valid_2_a_1.nii.gz,"[0.7, 0.7]",1.5,1,-1024\n')
    loaders = {k: NiftiDataset(str(tmp_path / f"{k}.nii.gz")).load
               for k in ("valid_1_a_1", "valid_2_a_1")}
    out = tmp_path / "inputs"
    params = {**_params(out, specs={"ras_hu": SPECS["ras_hu"]}),
              "ct_rate_metadata": str(csv_path)}
    *_, manifest = preprocess_volumes(_qa(loaders), loaders, params, ("ras_hu",))
    by_key = {row["volume_key"]: row for row in manifest}
    assert by_key["valid_1_a_1"]["ct_rate_metadata"] == {"spacing_from": "metadata",
                                                         "rescale_from": "metadata"}
    assert by_key["valid_2_a_1"]["ct_rate_metadata"]["spacing_from"] == "header"
    for key in loaders:
        written = nib.load(str(out / "ras_hu" / f"{key}.nii.gz"))
        np.testing.assert_array_equal(np.asanyarray(written.dataobj), fixed)
    raw_out = nib.load(str(out / "ras_hu" / "valid_1_a_1.nii.gz"))
    assert voxel_spacing(raw_out) == pytest.approx((0.5, 0.5, 2.0))
