"""Perturbations keep the stored orientation and dtype and do what their strength says."""

from __future__ import annotations

import numpy as np
import pytest


def test_each_perturbation_keeps_orientation_and_dtype(ras_volume):
    from ct_spatial_bench.imaging.perturb import PERTURBATIONS, perturb

    for kind in PERTURBATIONS:
        out = perturb(ras_volume, kind, 2)
        assert out.get_data_dtype() == np.int16
        assert out.affine[:3, :2] == pytest.approx(ras_volume.affine[:3, :2])


def test_strengths_are_physical(ras_volume):
    from ct_spatial_bench.imaging.perturb import perturb

    data = np.asanyarray(ras_volume.dataobj).astype(float)
    shifted = np.asanyarray(perturb(ras_volume, "shift", 100).dataobj)
    np.testing.assert_array_equal(shifted, data + 100)
    noisy = np.asanyarray(perturb(ras_volume, "noise", 50, seed=1).dataobj) - data
    assert 40 < noisy.std() < 60
    blurred = np.asanyarray(perturb(ras_volume, "blur", 3.0).dataobj)
    assert blurred.max() < data.max()
    coarse = perturb(ras_volume, "slice_spacing", 2)
    assert coarse.shape == (12, 10, 4)
    assert coarse.affine[2, 2] == pytest.approx(6.0)


def test_unknown_perturbation_is_refused(ras_volume):
    from ct_spatial_bench.imaging.perturb import perturb

    with pytest.raises(ValueError, match="unknown perturbation"):
        perturb(ras_volume, "rotate", 1)
