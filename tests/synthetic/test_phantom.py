"""Phantom cases: header, HU, world-space truth under non-RAS storage, determinism."""

from __future__ import annotations

import hashlib

import nibabel as nib
import numpy as np
import pytest

from ct_spatial_bench.synthetic import anatomy as A
from ct_spatial_bench.synthetic.phantom import generate_case, to_storage_orientation

CASE = 2  # plan: nodule + hilar/paratracheal node; used in every orientation below


@pytest.fixture(scope="module")
def cases():
    return {o: generate_case(CASE, seed=7, orientation=o) for o in ("RAS", "LPS", "PSR")}


def test_header_is_save_ready(cases, tmp_path):
    for orientation, case in cases.items():
        img = case.image
        assert "".join(nib.aff2axcodes(img.affine)) == orientation
        assert img.get_data_dtype() == np.int16 and np.asarray(img.dataobj).dtype == np.int16
        assert int(img.header["qform_code"]) == 1 and int(img.header["sform_code"]) == 1
        assert img.header.get_slope_inter() == (1.0, 0.0)
        zooms_ras = np.abs(nib.as_closest_canonical(img).header.get_zooms()[:3])
        assert np.allclose(zooms_ras, (1.5, 1.5, 3.0))
        path = tmp_path / f"{orientation}.nii.gz"
        nib.save(img, path)
        back = nib.load(path)
        assert np.array_equal(np.asarray(back.dataobj), np.asarray(img.dataobj))
        assert np.allclose(back.affine, img.affine)


def test_hounsfield_units_are_plausible_per_tissue(cases):
    case = cases["RAS"]
    hu, labels = case.hu_ras, case.labels
    expected = {  # label: (low, high) bounds for the tissue's median HU
        A.AIR: (-1010, -990), A.SUBCUT_FAT: (-120, -80), A.MUSCLE: (30, 70), A.LUNG: (-900, -800),
        A.FISSURE: (-700, -500), A.HEART: (30, 50), A.BONE_CORTICAL: (700, 1100),
        A.BONE_CANCELLOUS: (250, 450), A.LIVER: (50, 70), A.SPLEEN: (40, 60),
        A.KIDNEY: (20, 40), A.NODULE: (20, 40), A.LYMPH_NODE: (25, 45),
        A.MEDIASTINAL_FAT: (-110, -70),
    }
    for label, (low, high) in expected.items():
        values = hu[labels == label]
        assert values.size > 0, f"tissue {label} missing"
        assert low <= np.median(values) <= high, (label, np.median(values))
    assert hu.min() >= -1024 and hu.max() <= 3071


def test_liver_right_heart_left_in_world_space(cases):
    """Anatomy is placed in patient space: RAS+ world x > midline is the patient's right."""
    for case in cases.values():
        labels, _ = to_storage_orientation(case.labels, case.affine_ras, case.orientation)
        midline = case.anatomy["midline_x_ras_mm"]
        for label, side in ((A.LIVER, +1), (A.HEART, -1), (A.SPLEEN, -1)):
            centroid = np.argwhere(labels == label).mean(axis=0)
            x = nib.affines.apply_affine(case.image.affine, centroid)[0]
            assert np.sign(x - midline) == side, (case.orientation, label)


def test_findings_are_where_their_rows_say(cases):
    """The stored voxel of each finding centre holds the finding and maps to its world position;
    a reader ignoring the header of the LPS case puts the same voxel on the other side."""
    for case in cases.values():
        stored = np.asarray(case.image.dataobj)
        midline = case.anatomy["midline_x_ras_mm"]
        for row in case.findings:
            if row["kind"] not in ("nodule", "mass", "lymph_node"):
                continue
            ijk = row["centre_voxel_stored"]
            assert 15 <= stored[tuple(ijk)] <= 50  # solid tissue HU at the centre
            world = nib.affines.apply_affine(case.image.affine, ijk)
            assert np.allclose(world, row["centre_ras_mm"], atol=0.01)
            assert ("Right" if world[0] > midline else "Left") == row["side"]
            if case.orientation == "LPS":  # header ignored: axis 0 read as increasing to the right
                naive_x = np.diag(case.affine_ras)[0] * ijk[0] + case.affine_ras[0, 3]
                assert ("Right" if naive_x > midline else "Left") != row["side"]


def test_non_ras_twins_have_identical_canonical_arrays(cases):
    ras = cases["RAS"]
    for orientation in ("LPS", "PSR"):
        twin = cases[orientation]
        stored = np.asarray(twin.image.dataobj)
        assert stored.shape != ras.hu_ras.shape or not np.array_equal(stored, ras.hu_ras)
        canonical = nib.as_closest_canonical(twin.image)
        assert np.array_equal(np.asarray(canonical.dataobj), ras.hu_ras)
        assert np.allclose(canonical.affine, ras.affine_ras)
        strip = lambda rows: [{k: v for k, v in r.items()  # noqa: E731
                               if k not in ("orientation", "centre_voxel_stored")} for r in rows]
        assert strip(twin.findings) == strip(ras.findings)


def test_same_seed_same_bytes_other_seed_other_case():
    def digest(case):
        return hashlib.sha256(np.asarray(case.image.dataobj).tobytes()).hexdigest()

    first, again = generate_case(0, seed=11), generate_case(0, seed=11)
    assert digest(first) == digest(again) and first.findings == again.findings
    assert digest(generate_case(0, seed=12)) != digest(first)


def test_lobes_are_separated_by_visible_fissures(cases):
    """Each lobe's air is one component once the fissure voxels are removed (6-connectivity)."""
    from scipy import ndimage as ndi

    case = cases["RAS"]
    air = np.isin(case.labels, (A.LUNG, A.EMPHYSEMA))
    for code in A.LOBE_NAMES:
        lab, _ = ndi.label(air & (case.lobes == code))
        others = air & (case.lobes != code) & (case.lobes > 0)
        grown = ndi.binary_dilation(lab > 0)
        assert not (grown & others).any(), f"lobe {code} touches another lobe's air"


def test_an_unrendered_case_has_the_rendered_cases_findings_and_maps(cases):
    # the answer priors' phantoms skip the Hounsfield units; what they read must not change
    bare = generate_case(CASE, seed=7, render=False)
    assert bare.image is None and bare.hu_ras is None
    assert bare.findings == cases["RAS"].findings
    assert np.array_equal(bare.labels, cases["RAS"].labels)
    assert np.array_equal(bare.lobes, cases["RAS"].lobes)
