"""One synthetic CT case: anatomy + findings -> Hounsfield units -> a NIfTI in a chosen orientation.

Everything is computed in RAS+ voxel order first; only the stored image is reoriented, with
nibabel's orientation tools, so the world position of every voxel is unchanged. A reader that
honours the header (``nib.as_closest_canonical``) recovers the RAS array byte for byte; a reader
that ignores it sees the patient mirrored (LPS) or with axes permuted (e.g. PSR).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import nibabel as nib
import numpy as np

from . import anatomy as A
from . import findings as F
from . import nodes

# Mean Hounsfield units and noise SD per tissue label. Soft tissues are kept a few HU apart on
# purpose (fluid 10 < consolidation 20 < nodule 30 < node 35 < heart 40 < muscle 50 < liver 60):
# all are within textbook ranges, and a threshold reader can tell them apart after smoothing.
TISSUE_HU: dict[int, tuple[float, float]] = {
    A.AIR: (-1000.0, 5.0), A.SUBCUT_FAT: (-100.0, 6.0), A.MUSCLE: (50.0, 6.0),
    A.MEDIASTINAL_FAT: (-90.0, 6.0), A.LUNG: (-850.0, 20.0), A.FISSURE: (-600.0, 20.0),
    A.EMPHYSEMA: (-975.0, 8.0), A.TRACHEA: (-1000.0, 5.0), A.HEART: (40.0, 6.0),
    A.AORTA: (40.0, 6.0), A.BONE_CANCELLOUS: (350.0, 30.0), A.BONE_CORTICAL: (900.0, 40.0),
    A.LIVER: (60.0, 6.0), A.SPLEEN: (50.0, 6.0), A.KIDNEY: (30.0, 6.0),
    A.ABDOMINAL_FAT: (-90.0, 6.0), A.NODULE: (30.0, 5.0), A.CONSOLIDATION: (20.0, 5.0),
    A.EFFUSION: (10.0, 5.0), A.LYMPH_NODE: (35.0, 5.0),
}

# What each case contains, cycled over the case index so every template and category is covered:
# three or four findings a case, as a chest CT often shows (a pneumonia with its effusion and a
# reactive node, an incidental nodule). The mask track keeps a relation only where its answer
# varies from case to case, so each kind is placed on both sides, at both levels of the carina
# and (nodes) at all four stations, by case.
CASE_PLANS: tuple[tuple[str, ...], ...] = (
    ("nodule", "effusion", "node"),
    ("nodule", "consolidation", "node"),
    ("nodule", "consolidation", "effusion", "node"),
    ("consolidation", "bilateral_effusion", "node"),
    ("nodule", "effusion", "consolidation", "node"),
    ("nodule", "consolidation", "node"),
    ("nodule", "effusion", "node"),
    ("nodule", "emphysema", "node", "effusion"),
    ("consolidation", "node", "bilateral_effusion"),
    ("nodule", "effusion", "consolidation", "node"),
)
# Per case of the cycle: the side of the effusion and consolidation (the nodule takes the other
# lung), chosen so each kind is right as often as left over the cycle; the node's station; and
# whether the nodule and the consolidation lie above the carina.
FIRST_SIDES = "RLRLLRLRRL"
NODE_STATION_CYCLE = ("Right paratracheal", "Left hilar", "Left paratracheal", "Right hilar",
                      "Left hilar", "Right paratracheal", "Left hilar", "Left paratracheal",
                      "Right paratracheal", "Right hilar")
NODULE_ABOVE_CARINA = (True, False, True, None, False, True, False, True, None, False)
CONSOLIDATION_ABOVE_CARINA = (None, False, True, False, False, True, None, None, True, False)


def case_key(index: int) -> str:
    return f"phantom_{index:03d}"


@dataclass
class PhantomCase:
    """One generated case. ``hu_ras`` is the canonical array; ``image`` is what gets stored."""

    key: str
    case_id: str
    orientation: str
    image: nib.Nifti1Image | None      # None when not rendered
    hu_ras: np.ndarray | None
    affine_ras: np.ndarray
    findings: list[dict[str, Any]]
    anatomy: dict[str, Any]
    plan: tuple[str, ...]
    labels: np.ndarray = field(repr=False, default=None)
    lobes: np.ndarray = field(repr=False, default=None)


def hounsfield_from_labels(labels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """int16 HU: the tissue's mean plus Gaussian noise of the tissue's SD (mild, CT-like)."""
    mean = np.zeros(256, np.float32)
    sd = np.zeros(256, np.float32)
    for label, (m, s) in TISSUE_HU.items():
        mean[label], sd[label] = m, s
    noise = rng.standard_normal(labels.shape, dtype=np.float32)
    hu = mean[labels] + sd[labels] * noise
    return np.clip(np.rint(hu), -1024, 3071).astype(np.int16)


def to_storage_orientation(array_ras: np.ndarray, affine_ras: np.ndarray, axcodes: str
                           ) -> tuple[np.ndarray, np.ndarray]:
    """Reorder a RAS array to ``axcodes`` ('LPS', 'PSR', ...); world positions are kept."""
    start = nib.orientations.axcodes2ornt(("R", "A", "S"))
    end = nib.orientations.axcodes2ornt(tuple(axcodes))
    transform = nib.orientations.ornt_transform(start, end)
    data = nib.orientations.apply_orientation(array_ras, transform)
    affine = affine_ras @ nib.orientations.inv_ornt_aff(transform, array_ras.shape)
    if "".join(nib.aff2axcodes(affine)) != axcodes:
        raise AssertionError(f"reorientation to {axcodes} gave {nib.aff2axcodes(affine)}")
    return np.ascontiguousarray(data), affine


def make_nifti(data: np.ndarray, affine: np.ndarray) -> nib.Nifti1Image:
    """A save-ready int16 NIfTI: qform/sform set (code 1, scanner), mm units, slope 1, inter 0."""
    img = nib.Nifti1Image(data.astype(np.int16), affine)
    img.set_qform(affine, code=1)
    img.set_sform(affine, code=1)
    img.set_data_dtype(np.int16)
    img.header.set_xyzt_units("mm", "sec")
    img.header.set_slope_inter(1.0, 0.0)
    return img


def generate_case(index: int, seed: int = 0, shape=(176, 144, 128), spacing=(1.5, 1.5, 3.0),
                  orientation: str = "RAS", plan: tuple[str, ...] | None = None,
                  render: bool = True) -> PhantomCase:
    """Generate case ``index`` of the split drawn from ``seed``.

    The case depends only on (seed, index, shape, spacing, plan), never on the orientation or the
    number of cases, so a case stored as LPS and its RAS twin hold the same canonical array.
    ``render`` False: no Hounsfield units and no image (``hu_ras`` and ``image`` None), for a
    case only its findings and label maps are read from (an answer prior's); the findings and
    maps are those of the rendered case.
    """
    key = case_key(index)
    case_id = f"{key}.nii.gz"
    plan = tuple(plan) if plan is not None else CASE_PLANS[index % len(CASE_PLANS)]
    for attempt in range(5):  # a finding with no room: redraw the patient, deterministically
        stream = [int(seed), int(index)] + ([attempt] if attempt else [])
        rng = np.random.default_rng(stream)
        try:
            grid, params, anat, findings = _draw_case(rng, index, key, case_id, plan, shape,
                                                      spacing)
            break
        except F.PlacementError:
            if attempt == 4:
                raise
    hu = hounsfield_from_labels(anat.labels, rng) if render else None
    stored, affine = to_storage_orientation(anat.labels if hu is None else hu, grid.affine,
                                            orientation)
    for row in findings:
        row["orientation"] = orientation
        row["centre_voxel_stored"] = _stored_index(row["centre_voxel_ras"], grid.affine, affine)
    anatomy_info = {
        "case_id": case_id, "orientation": orientation, "shape_ras": list(grid.shape),
        "spacing_mm": list(grid.spacing), "plan": list(plan),
        "patient_centre_ras_mm": [float(v) for v in grid.patient_centre],
        "carina_z_ras_mm": round(float(params.carina_z + grid.patient_centre[2]), 2),
        "midline_x_ras_mm": round(float(grid.patient_centre[0]), 2),
    }
    image = make_nifti(stored, affine) if render else None
    return PhantomCase(key, case_id, orientation, image, hu, grid.affine,
                       findings, anatomy_info, plan, anat.labels, anat.lobes)


def _draw_case(rng, index, key, case_id, plan, shape, spacing):
    """Anatomy and findings of one case (labels only; HU and storage come after)."""
    grid = A.make_grid(rng, shape, spacing)
    params = A.sample_anatomy(rng, grid)
    cycle = index % len(CASE_PLANS)
    node_plan = None
    if "node" in plan:
        station = NODE_STATION_CYCLE[cycle]
        node_plan = (station, *nodes.plan_lymph_node(params, rng, station))
    carve = [(node_plan[1], node_plan[2])] if node_plan else []
    anat = A.build_anatomy(params, grid, carve_balls=carve)

    findings: list[dict[str, Any]] = []

    def next_id() -> str:
        return f"{key}_f{len(findings)}"

    # The effusion and consolidation go to one lung (FIRST_SIDES); a nodule goes to the other
    # lung, so the lung it sits in keeps its full outline (its depth and centricity are then
    # unambiguous).
    other_side = A.RIGHT if FIRST_SIDES[cycle] == "R" else A.LEFT
    if "effusion" in plan:
        findings.append(F.place_effusion(anat, rng, [other_side], case_id, next_id()))
    if "bilateral_effusion" in plan:
        findings.append(F.place_effusion(anat, rng, [A.RIGHT, A.LEFT], case_id, next_id()))
    if "consolidation" in plan:
        crosses = index % 3 != 2  # four of the seven planned consolidations cross a fissure
        findings.append(F.place_consolidation(anat, rng, other_side, crosses, case_id, next_id(),
                                              above_carina=CONSOLIDATION_ABOVE_CARINA[cycle]))
    if "nodule" in plan:
        # Balanced answers across the split: depth alternates, centricity and size cycle.
        findings.append(F.place_nodule(
            anat, rng, -other_side, case_id, next_id(),
            centricity=("Central", "Peripheral", "Subpleural")[index % 3],
            anterior=index % 2 == 0, size_class=1 + (index // 2) % 3,
            above_carina=NODULE_ABOVE_CARINA[cycle]))
    if node_plan:
        findings.append(nodes.paint_lymph_node(anat, node_plan[1], node_plan[2], node_plan[0],
                                           case_id, next_id()))
    if "emphysema" in plan:
        findings.append(F.paint_emphysema(anat, rng, case_id, next_id()))
    return grid, params, anat, findings


def _stored_index(ijk_ras, affine_ras, affine_stored) -> list[int]:
    world = nib.affines.apply_affine(affine_ras, ijk_ras)
    ijk = nib.affines.apply_affine(np.linalg.inv(affine_stored), world)
    return [int(v) for v in np.rint(ijk)]
