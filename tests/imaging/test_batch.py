"""imaging.batch: the stream of finished volumes that the preprocessing node hands to the catalog."""

from __future__ import annotations

import numpy as np

from ct_spatial_bench.datasets import NiftiDataset
from ct_spatial_bench.imaging.batch import VolumeJob, preprocess_stream, spec_fingerprint
from ct_spatial_bench.imaging.specs import InputSpec, apply_spec

SMALL = InputSpec.from_params("small", {"orientation": "LPS", "shape": [3, 4, 5],
                                        "axis_order": "zyx", "output": "npy"})


def test_nothing_to_do_still_yields_one_chunk():
    """Kedro peeks at a generator node's first chunk: a run with no volumes must yield one."""
    assert list(preprocess_stream([], progress=False)) == [[]]


def test_volumes_that_lack_nothing_come_first_read_only_for_their_header(tmp_path, ras_volume,
                                                                         monkeypatch):
    import nibabel as nib

    import ct_spatial_bench.imaging.decode as decode

    nib.save(ras_volume, str(tmp_path / "done.nii.gz"))
    nib.save(ras_volume, str(tmp_path / "todo.nii.gz"))
    decoded = []
    real_decode = decode.decode_file
    monkeypatch.setattr(decode, "decode_file",
                        lambda path, *a: decoded.append(path) or real_decode(path, *a))
    jobs = [VolumeJob("todo", NiftiDataset(str(tmp_path / "todo.nii.gz")).load, specs=(SMALL,)),
            VolumeJob("done", NiftiDataset(str(tmp_path / "done.nii.gz")).load,
                      reused=("small",)),
            VolumeJob("gone", None, specs=(SMALL,))]
    chunks = list(preprocess_stream(jobs, progress=False))
    assert [[row["volume_key"] for row, _ in chunk] for chunk in chunks] == [
        ["done"], ["todo"], ["gone"]]
    (done, nothing), = chunks[0]
    assert nothing == {} and done["reused"] == ["small"] and done["source_shape"] == [12, 10, 8]
    (todo, outputs), = chunks[1]
    np.testing.assert_array_equal(outputs["small"], apply_spec(ras_volume, SMALL))
    assert todo["made"] == ["small"] and todo["source"] == str(tmp_path / "todo.nii.gz")
    (gone, none), = chunks[2]
    assert none == {} and gone["status"] == "error" and "'gone'" in gone["error"]
    assert decoded == [str(tmp_path / "todo.nii.gz")]


def test_the_fingerprint_follows_the_spec_settings():
    same = InputSpec.from_params("small", {"orientation": "LPS", "shape": [3, 4, 5],
                                           "axis_order": "zyx", "output": "npy"})
    other = InputSpec.from_params("small", {"orientation": "LPS", "shape": [3, 4, 6],
                                            "axis_order": "zyx", "output": "npy"})
    assert spec_fingerprint(same) == spec_fingerprint(SMALL) != spec_fingerprint(other)
