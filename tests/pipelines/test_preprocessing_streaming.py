"""The preprocessing pipeline through Kedro's runner and a test catalog: one decode per volume for
every spec, parallel, each volume saved by the catalog as it finishes, a rerun (or a killed run's
rerun) decodes nothing already made, and the outputs go wherever the catalog says."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from support.project import PROJECT_ROOT

from ct_spatial_bench.imaging.specs import InputSpec, apply_spec
from ct_spatial_bench.pipelines.preprocessing import create_pipeline

SPECS = {
    "ras_hu": {"orientation": "RAS", "output": "nifti"},
    "small": {"orientation": "LPS", "window": [-1000, 1000], "shape": [4, 6, 5],
              "axis_order": "zyx", "output": "npy"},
}
NPY = {"dataset": "ct_spatial_bench.datasets.NpyDataset", "filename_suffix": ".npy"}
NIFTI = {"dataset": "ct_spatial_bench.datasets.NiftiDataset", "filename_suffix": ".nii.gz"}


class Killed(BaseException):
    """Stands for a SIGKILL: nothing in the run may catch it."""


def _volumes(folder: Path, count: int) -> list[str]:
    import nibabel as nib

    rng = np.random.default_rng(0)
    folder.mkdir(parents=True, exist_ok=True)
    for index in range(count):
        data = rng.integers(-1000, 1000, size=(9, 8, 7)).astype(np.int16)
        nib.save(nib.Nifti1Image(data, np.diag([0.8, 0.8, 2.0, 1.0])),
                 str(folder / f"case_{index}.nii.gz"))
    return [f"case_{index}" for index in range(count)]


def _qa(keys) -> list[dict]:
    return [{"qa_id": f"{k}::{i}", "image_path": f"{k}.nii.gz"} for k in keys for i in range(3)]


def _entries(root: Path, specs=SPECS, kind="ct_spatial_bench.datasets.ModelInputsDataset"):
    """Test catalog entries for each spec's model inputs under ``root``."""
    return {f"model_inputs_{name}": {"type": kind, "path": str(root / name),
                                     **(NPY if spec.get("output") == "npy" else NIFTI)}
            for name, spec in specs.items()}


def _with_listing(entries: dict) -> dict:
    """``entries`` and ``existing_model_inputs``: the same datasets, every spec in one."""
    specs = {name.removeprefix("model_inputs_"): entry for name, entry in entries.items()}
    return {**entries, "existing_model_inputs": {
        "type": "ct_spatial_bench.datasets.AllModelInputsDataset", "specs": specs}}


def _run(tmp_path: Path, keys, specs=SPECS, workers=1, entries=None, **params):
    """Run the preprocessing pipeline as ``kedro run`` does, on a catalog made here."""
    from kedro.io import DataCatalog
    from kedro.runner import SequentialRunner

    config = {
        "raw_volumes": {"type": "partitions.PartitionedDataset", "path": str(tmp_path / "raw"),
                        **NIFTI},
        "preprocessing_manifest": {"type": "ct_spatial_bench.datasets.JsonLinesDataset",
                                   "filepath": str(tmp_path / "manifest.jsonl")},
        **_with_listing(entries or _entries(tmp_path / "inputs", specs)),
    }
    catalog = DataCatalog.from_config(config)
    catalog["benchmark_qa"] = _qa(keys)
    catalog["params:preprocessing"] = {"workers": workers, "specs": specs, **params}
    SequentialRunner().run(create_pipeline(tuple(specs)), catalog)
    return {row["volume_key"]: row for row in catalog.load("preprocessing_manifest")}


@pytest.fixture
def decodes(monkeypatch):
    """Counts full decodes of a volume (reading a header is not one), by volume file name."""
    import ct_spatial_bench.imaging.decode as decode

    counted: list[str] = []

    def counting(func):
        def wrapper(source, *args, **kwargs):
            name = getattr(source, "get_filename", lambda: source)()
            counted.append(Path(str(name)).name.removesuffix(".nii.gz"))
            return func(source, *args, **kwargs)
        return wrapper

    monkeypatch.setattr(decode, "decode_file", counting(decode.decode_file))
    monkeypatch.setattr(decode, "decode_volume", counting(decode.decode_volume))
    return counted


@pytest.mark.slow
def test_parallel_outputs_equal_apply_spec_and_a_missing_volume_is_recorded(tmp_path):
    import nibabel as nib

    keys = _volumes(tmp_path / "raw", 3)
    manifest = _run(tmp_path, [*keys, "absent"], workers=2)
    assert manifest["absent"]["status"] == "error" and "absent" in manifest["absent"]["error"]
    out = tmp_path / "inputs"
    for key in keys:
        assert manifest[key]["made"] == ["ras_hu", "small"] and manifest[key]["status"] == "ok"
        source = nib.load(str(tmp_path / "raw" / f"{key}.nii.gz"))
        expected = apply_spec(source, InputSpec.from_params("small", SPECS["small"]))
        np.testing.assert_array_equal(np.load(out / "small" / f"{key}.npy"), expected)
        written = nib.load(str(out / "ras_hu" / f"{key}.nii.gz"))
        assert written.get_data_dtype() == np.int16  # HU kept as integers
        np.testing.assert_array_equal(np.asanyarray(written.dataobj),
                                      np.asanyarray(source.dataobj))


def test_a_bad_volume_is_named_and_the_others_are_made(tmp_path, caplog):
    keys = _volumes(tmp_path / "raw", 2)
    bad = tmp_path / "raw" / "broken.nii.gz"
    bad.write_bytes(b"not a NIfTI volume")
    with caplog.at_level("ERROR"):
        manifest = _run(tmp_path, [*keys, "broken"])
    assert manifest["broken"]["status"] == "error" and str(bad) in manifest["broken"]["error"]
    assert str(bad) in caplog.text
    assert all(manifest[k]["status"] == "ok" for k in keys)
    assert sorted(p.name for p in (tmp_path / "inputs" / "small").glob("*.npy")) == [
        "case_0.npy", "case_1.npy"]


def test_a_rerun_decodes_nothing_and_a_changed_spec_is_remade(tmp_path, decodes):
    keys = _volumes(tmp_path / "raw", 2)
    _run(tmp_path, keys)
    assert sorted(decodes) == keys
    stamp = (tmp_path / "inputs" / "small" / "case_0.npy").stat().st_mtime_ns

    decodes.clear()
    manifest = _run(tmp_path, keys)
    assert decodes == []
    assert all(r["made"] == [] and r["reused"] == ["ras_hu", "small"] for r in manifest.values())
    assert (tmp_path / "inputs" / "small" / "case_0.npy").stat().st_mtime_ns == stamp

    changed = {**SPECS, "small": {**SPECS["small"], "shape": [3, 3, 3]}}
    manifest = _run(tmp_path, keys, specs=changed)
    assert sorted(decodes) == keys  # one decode per volume, for the changed spec only
    assert all(r["made"] == ["small"] and r["reused"] == ["ras_hu"] for r in manifest.values())
    assert np.load(tmp_path / "inputs" / "small" / "case_0.npy").shape == (3, 3, 3)


def test_a_killed_run_resumes_without_decoding_what_it_finished(tmp_path, decodes, monkeypatch):
    import ct_spatial_bench.imaging.decode as decode

    keys = _volumes(tmp_path / "raw", 3)
    counted_decode = decode.decode_file

    def killed_at_case_1(path, *args, **kwargs):
        if "case_1" in str(path):
            raise Killed
        return counted_decode(path, *args, **kwargs)

    monkeypatch.setattr(decode, "decode_file", killed_at_case_1)
    with pytest.raises(Killed):
        _run(tmp_path, keys)
    assert sorted(p.name for p in (tmp_path / "inputs" / "small").glob("*.npy")) == ["case_0.npy"]
    kept = (tmp_path / "manifest.jsonl").read_text()  # saved with each volume, kill or not
    assert '"case_0"' in kept and '"case_1"' not in kept

    monkeypatch.setattr(decode, "decode_file", counted_decode)
    decodes.clear()
    manifest = _run(tmp_path, keys)
    assert sorted(decodes) == ["case_1", "case_2"]
    assert manifest["case_0"]["reused"] == ["ras_hu", "small"] and manifest["case_0"]["made"] == []


def test_outputs_go_where_a_swapped_catalog_puts_them(tmp_path, monkeypatch, decodes):
    """A test catalog moves ras_hu elsewhere and stores small with a plain PartitionedDataset:
    the node writes nothing itself, so the outputs land exactly there."""
    monkeypatch.chdir(tmp_path)
    keys = _volumes(tmp_path / "raw", 2)
    elsewhere = tmp_path / "elsewhere"
    entries = {**_entries(elsewhere, {"ras_hu": SPECS["ras_hu"]}),
               **_entries(tmp_path / "plain", {"small": SPECS["small"]},
                          kind="partitions.PartitionedDataset")}
    _run(tmp_path, keys, entries=entries)
    assert sorted(p.name for p in (elsewhere / "ras_hu").glob("*.nii.gz")) == [
        "case_0.nii.gz", "case_1.nii.gz"]
    assert sorted(p.name for p in (tmp_path / "plain" / "small").glob("*.npy")) == [
        "case_0.npy", "case_1.npy"]
    assert not (tmp_path / "inputs").exists() and not (tmp_path / "data").exists()

    decodes.clear()  # a plain dataset cannot say which spec made its files: they are kept
    manifest = _run(tmp_path, keys, entries=entries)
    assert decodes == [] and all(r["made"] == [] for r in manifest.values())


@pytest.mark.parametrize("env", ["base", "full"])
def test_existing_model_inputs_are_the_model_inputs_datasets_themselves(env):
    """Each spec's listing (read before the run, all specs in one dataset) and output are one
    dataset in every env."""
    from kedro.config import OmegaConfigLoader
    from kedro.io import DataCatalog

    from ct_spatial_bench.settings import CONFIG_LOADER_ARGS

    loader = OmegaConfigLoader(str(PROJECT_ROOT / "conf"), env=None if env == "base" else env,
                               **CONFIG_LOADER_ARGS)
    catalog = DataCatalog.from_config(loader["catalog"], credentials=loader["credentials"])
    specs = loader["parameters"]["preprocessing"]["specs"]
    for name, spec in specs.items():
        output = catalog.get(f"model_inputs_{name}")
        listing = catalog.get("existing_model_inputs")._dataset(name)  # noqa: SLF001
        assert type(listing) is type(output), name
        assert listing._init_args == output._init_args, name  # noqa: SLF001
        suffix = ".npy" if spec.get("output") == "npy" else ".nii.gz"
        assert output._filename_suffix == suffix, name  # noqa: SLF001


def test_ct_rate_metadata_fills_what_a_raw_header_lacks_and_spares_a_fixed_one(tmp_path):
    """A raw CT-RATE volume (unit spacing, stored values 0..4095, no scaling) gets spacing and HU
    from the metadata CSV; a fixed one already in HU with real spacing is left alone."""
    import nibabel as nib

    from ct_spatial_bench.imaging.orientation import voxel_spacing

    raw = np.full((6, 5, 4), 24, dtype=np.int16)  # air at intercept -1024
    raw[2:4, 2:3, 1:3] = 1064  # +40 HU soft tissue
    (tmp_path / "raw").mkdir()
    nib.save(nib.Nifti1Image(raw, np.eye(4)), str(tmp_path / "raw" / "valid_1_a_1.nii.gz"))
    fixed = (raw.astype(np.int32) - 1024).astype(np.int16)
    nib.save(nib.Nifti1Image(fixed, np.diag([0.7, 0.7, 1.5, 1.0])),
             str(tmp_path / "raw" / "valid_2_a_1.nii.gz"))
    csv_path = tmp_path / "validation_metadata.csv"
    csv_path.write_text(
        "VolumeName,XYSpacing,ZSpacing,RescaleSlope,RescaleIntercept\n"
        'valid_1_a_1.nii.gz,"[0.5, 0.5]",2.0,1,-1024\n'
        'valid_2_a_1.nii.gz,"[0.7, 0.7]",1.5,1,-1024\n')
    keys = ["valid_1_a_1", "valid_2_a_1"]
    manifest = _run(tmp_path, keys, specs={"ras_hu": SPECS["ras_hu"]},
                    ct_rate_metadata=str(csv_path))
    assert manifest["valid_1_a_1"]["ct_rate_metadata"] == {"spacing_from": "metadata",
                                                           "rescale_from": "metadata"}
    assert manifest["valid_2_a_1"]["ct_rate_metadata"]["spacing_from"] == "header"
    for key in keys:
        written = nib.load(str(tmp_path / "inputs" / "ras_hu" / f"{key}.nii.gz"))
        np.testing.assert_array_equal(np.asanyarray(written.dataobj), fixed)
    raw_out = nib.load(str(tmp_path / "inputs" / "ras_hu" / "valid_1_a_1.nii.gz"))
    assert voxel_spacing(raw_out) == pytest.approx((0.5, 0.5, 2.0))
