import nibabel as nib
import numpy as np

from ct_spatial_bench.imaging.orientation import axis_codes, reorient, voxel_spacing


def _world_centroid(image, value=40):
    ijk = np.argwhere(np.asanyarray(image.dataobj) == value).mean(axis=0)
    return nib.affines.apply_affine(image.affine, ijk)


def _store_as(image, codes):
    """The same patient, stored in another voxel order (what a scanner might write)."""
    from nibabel.orientations import axcodes2ornt, inv_ornt_aff, ornt_transform

    transform = ornt_transform(axcodes2ornt(tuple("RAS")), axcodes2ornt(tuple(codes)))
    data = nib.orientations.apply_orientation(np.asanyarray(image.dataobj), transform)
    affine = image.affine @ inv_ornt_aff(transform, image.shape)
    return nib.Nifti1Image(data, affine)


def test_reorienting_keeps_world_positions(ras_volume):
    for codes in ("LPS", "PSR", "SLP"):
        stored = _store_as(ras_volume, codes)
        assert axis_codes(stored) == codes
        back = reorient(stored, "RAS")
        assert axis_codes(back) == "RAS"
        assert back.get_data_dtype() == np.int16
        np.testing.assert_array_equal(np.asanyarray(back.dataobj), np.asanyarray(ras_volume.dataobj))
        np.testing.assert_allclose(back.affine, ras_volume.affine)
        np.testing.assert_allclose(_world_centroid(stored), _world_centroid(ras_volume))


def test_finding_on_patient_right_has_positive_world_x(ras_volume):
    assert _world_centroid(reorient(_store_as(ras_volume, "LPS")))[0] > 0


def test_spacing_comes_from_the_affine(ras_volume):
    assert voxel_spacing(_store_as(ras_volume, "PSR")) == (1.5, 3.0, 1.5)
