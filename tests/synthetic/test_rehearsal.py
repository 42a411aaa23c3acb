"""The rehearsal tree has CT-RATE's layout and CT-SpatialVQA's formats; raw volumes round-trip."""

import numpy as np
import pytest

from ct_spatial_bench.imaging.ct_rate import apply_ct_rate_metadata, load_ct_rate_metadata
from ct_spatial_bench.synthetic.rehearsal import generate_rehearsal_tree
from ct_spatial_bench.synthetic.split import generate_sanity_split

PARAMS = dict(n_cases=4, seed=3, raw_every=2, shape=(88, 72, 64), spacing=(3.0, 3.0, 6.0),
              non_ras_orientations=("LPS",))


@pytest.fixture(scope="module")
def tree():
    return generate_rehearsal_tree(**PARAMS)


def test_layout_is_ct_rate_s(tree):
    assert sorted(tree.volumes) == [
        "valid_1/valid_1_a/valid_1_a_1", "valid_1/valid_1_a/valid_1_a_2",
        "valid_2/valid_2_a/valid_2_a_1", "valid_3/valid_3_a/valid_3_a_1"]
    first = tree.qa[0]
    assert set(first) == {"case_id", "image_path", "question", "answer"}
    assert first["image_path"] == ("dataset/data_volumes/dataset/valid_fixed/"
                                   f"{first['case_id'].split('_a_')[0]}/"
                                   f"{first['case_id'].split('_a_')[0]}_a/{first['case_id']}")
    assert sum(len(c["qa_pairs"]) for c in tree.categories.values()) == len(tree.qa)


def test_raw_volumes_need_the_metadata_and_round_trip_to_the_phantom(tree, tmp_path):
    import csv

    phantoms = generate_sanity_split(**{k: v for k, v in PARAMS.items() if k != "raw_every"})
    original = phantoms.volumes["phantom_001"]  # the 2nd volume: raw_every=2 stores it raw
    raw = tree.volumes["valid_1/valid_1_a/valid_1_a_2"]
    assert np.allclose(np.sqrt((raw.affine[:3, :3] ** 2).sum(axis=0)), 1.0)  # unit voxels
    assert np.asanyarray(raw.dataobj).min() >= 0  # raw stored values, not HU
    path = tmp_path / "validation_metadata.csv"
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(tree.metadata[0]))
        writer.writeheader()
        writer.writerows(tree.metadata)
    fixed, provenance = apply_ct_rate_metadata(raw, load_ct_rate_metadata(path)["valid_1_a_2.nii.gz"])
    assert provenance == {"spacing_from": "metadata", "rescale_from": "metadata"}
    assert np.allclose(fixed.affine, original.affine)
    assert np.array_equal(np.asanyarray(fixed.dataobj), np.asanyarray(original.dataobj))


def test_a_non_ras_case_is_kept(tree):
    import nibabel as nib

    codes = {"".join(nib.aff2axcodes(image.affine)) for image in tree.volumes.values()}
    assert "LPS" in codes and "RAS" in codes
