"""Measurements through the affine, on label maps made here with known geometry."""

from __future__ import annotations

import nibabel as nib
import numpy as np
import pytest

from ct_spatial_bench.mask_qa.measure import LabelMapError, VolumeMeasures
from ct_spatial_bench.mask_qa.tables import parse_label_table

TABLE = parse_label_table({
    "midline": ["spine"],
    "structures": {
        "spine": {"kind": "organ", "side": "midline", "masks": [{"map": "m", "values": [1]}]},
        "a": {"kind": "finding", "side": "unpaired", "masks": [{"map": "m", "values": [2]}]},
        "b": {"kind": "organ", "side": "unpaired", "masks": [{"map": "m", "values": [3]}]},
    }})


def _maps(axcodes="RAS"):
    """20x10x10 voxels of 2x2x2 mm; spine at x index 10, a at 14-15, b at 4 (all in RAS)."""
    data = np.zeros((20, 10, 10), np.uint8)
    data[10, 5, 5] = 1
    data[14:16, 5, 5] = 2     # two voxels: centres 2 mm apart
    data[4, 5, 5] = 3
    affine = np.diag([2.0, 2.0, 2.0, 1.0])
    affine[:3, 3] = [-20.0, 0.0, 100.0]
    start, end = nib.orientations.axcodes2ornt("RAS"), nib.orientations.axcodes2ornt(axcodes)
    transform = nib.orientations.ornt_transform(start, end)
    stored = nib.orientations.apply_orientation(data, transform)
    affine = affine @ nib.orientations.inv_ornt_aff(transform, data.shape)
    return {"m": nib.Nifti1Image(np.ascontiguousarray(stored), affine)}


@pytest.mark.parametrize("axcodes", ["RAS", "LPS", "PSR"])
def test_positions_sizes_and_gaps_in_world_mm_whatever_the_storage(axcodes):
    vol = VolumeMeasures(_maps(axcodes), TABLE)
    # world x = -20 + 2 i: spine at 0, a at 8 and 10 (centroid 9), b at -12
    assert vol.midline_x == pytest.approx(0.0)
    assert vol.present["a"].centroid[0] == pytest.approx(9.0)
    assert vol.right_share(vol.present["a"]) == 1.0 and vol.right_share(vol.present["b"]) == 0.0
    assert vol.present["a"].volume_ml == pytest.approx(2 * 8 / 1000.0)
    # two centres 2 mm apart, plus one 2 mm voxel
    assert vol.largest_diameter_mm(vol.present["a"]) == pytest.approx(4.0)
    # a's nearest voxel (x = 8) to the spine (x = 0): 8 mm; to b (x = -12): 20 mm, beyond reach
    assert vol.gap_mm(vol.present["a"], vol.present["spine"], reach_mm=10.0) == pytest.approx(8.0)
    assert vol.gap_mm(vol.present["a"], vol.present["b"], reach_mm=10.0) == float("inf")


def test_maps_on_different_grids_are_refused_by_name():
    maps = _maps()
    other = nib.Nifti1Image(np.asarray(maps["m"].dataobj), np.diag([1.0, 2.0, 2.0, 1.0]))
    with pytest.raises(LabelMapError, match="'n'"):
        VolumeMeasures({**maps, "n": other}, TABLE, "case_1")
