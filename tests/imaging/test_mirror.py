"""The left-right mirror works in patient space through the affine, whatever the storage order."""

from __future__ import annotations

import numpy as np
import pytest


def _image(data, affine):
    import nibabel as nib

    image = nib.Nifti1Image(data, affine)
    image.set_qform(affine, code=1)
    image.set_sform(affine, code=1)
    return image


def _bright_world(image):
    """World coordinates of the bright block's centre."""
    ijk = np.argwhere(np.asanyarray(image.dataobj) > 0).mean(axis=0)
    return (image.affine @ np.append(ijk, 1.0))[:3]


@pytest.fixture
def psr_volume():
    """Stored PSR (voxel axes: posterior, superior, right), centred on x = 0, a finding on the
    patient's left (world x < 0 in RAS+ world coordinates)."""
    data = np.full((10, 8, 12), -1000, dtype=np.int16)
    # axis 0: y decreasing (P), axis 1: z increasing (S), axis 2: x increasing (R)
    affine = np.array([[0, 0, 1.5, -8.25], [-2.0, 0, 0, 9.0], [0, 3.0, 0, -10.5], [0, 0, 0, 1]])
    data[4:6, 3:5, 1:3] = 60  # x = -8.25 + 1.5 * [1, 2] -> left of the centre plane x = 0
    return _image(data, affine)


def test_finding_moves_to_the_other_side_and_storage_is_kept(psr_volume):
    import nibabel as nib

    from ct_spatial_bench.imaging.mirror import centre_plane_x, mirror_left_right

    assert "".join(nib.aff2axcodes(psr_volume.affine)) == "PSR"
    assert centre_plane_x(psr_volume) == pytest.approx(0.0)
    before = _bright_world(psr_volume)
    mirrored = mirror_left_right(psr_volume)
    after = _bright_world(mirrored)
    assert before[0] < 0 < after[0]                       # left -> right in world x
    assert after[0] == pytest.approx(-before[0])
    assert after[1:] == pytest.approx(before[1:])         # y and z unchanged
    assert "".join(nib.aff2axcodes(mirrored.affine)) == "PSR"
    np.testing.assert_array_equal(mirrored.affine, psr_volume.affine)
    assert mirrored.shape == psr_volume.shape
    assert mirrored.get_data_dtype() == np.int16
    # a true mirror: twice is the identity
    np.testing.assert_array_equal(np.asanyarray(mirror_left_right(mirrored).dataobj),
                                  np.asanyarray(psr_volume.dataobj))


def test_lps_and_ras_copies_of_one_volume_mirror_alike(ras_volume):
    from ct_spatial_bench.imaging.mirror import mirror_left_right
    from ct_spatial_bench.imaging.orientation import reorient

    lps = reorient(ras_volume, "LPS")
    from_ras = reorient(mirror_left_right(ras_volume), "LPS")
    from_lps = mirror_left_right(lps)
    np.testing.assert_array_equal(np.asanyarray(from_ras.dataobj),
                                  np.asanyarray(from_lps.dataobj))
    np.testing.assert_allclose(from_ras.affine, from_lps.affine)


def test_off_centre_plane_resamples_in_world_space(ras_volume):
    from ct_spatial_bench.imaging.mirror import centre_plane_x, mirror_left_right

    plane = centre_plane_x(ras_volume) + 1.5  # one voxel off the centre: no exact permutation
    before = _bright_world(ras_volume)
    after = _bright_world(mirror_left_right(ras_volume, plane_x=plane))
    assert after[0] == pytest.approx(2 * plane - before[0], abs=0.01)
    assert after[1:] == pytest.approx(before[1:])
