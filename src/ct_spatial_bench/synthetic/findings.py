"""Findings placed at known positions, with their exact spatial description.

Each placer picks a position that makes the spatial answer unambiguous (a nodule well inside one
lobe and clearly anterior or posterior, a consolidation that either stops at a fissure or clearly
crosses it, ...), paints the finding into the label volume and returns its ground-truth row.

The descriptive measures (``measures.py``) are ones any reader of the image can recompute:
- side: which pleural cavity holds it (world x of the patient's right is positive in RAS+);
- depth: position along the antero-posterior run of the lung through the finding's centre;
- centricity: position along the medio-lateral run of the lung (0 medial, 1 lateral), and the
  gap from the finding to the nearest pleura (subpleural: within a few mm of it);
- level: height of the centre against the carina.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import ndimage as ndi

from .anatomy import (
    CONSOLIDATION, EFFUSION, EMPHYSEMA, FISSURE, LOBE_NAMES, LOBES_OF_SIDE, LUNG, NODULE, RIGHT,
    SIDE_NAMES, Anatomy, Grid,
)
from .measures import _bounding_box, ball_mask, cavity_distance_mm, lung_fractions

NODULE_SIZE_RANGES_MM = {1: (6.0, 12.0), 2: (17.0, 23.0), 3: (27.0, 33.0)}  # by nearest cm
MASS_THRESHOLD_MM = 30.0          # radiological convention: a nodule of 3 cm or more is a mass
DEPTH_MARGIN = 0.35               # depth fraction <= 0.35 posterior, >= 0.65 anterior
CENTRAL_MAX, PERIPHERAL_MIN = 0.30, 0.62
PERIPHERAL_MIN_GAP_MM = 10.0      # a peripheral nodule keeps 1 cm of lung between it and pleura
CARINA_MARGIN_MM = 15.0           # nodules sit clearly above or below the carina
LEVEL_GAP_MM = 9.0                # asked for a level: the whole finding that far from the carina


def subpleural_gap_range(spacing) -> tuple[float, float]:
    """Gap (mm) between a subpleural nodule and the pleura: just over one voxel, so the nodule
    is still enclosed by aerated lung in 3D (a reader sees it as a lung lesion) yet abuts the
    pleura."""
    low = float(max(spacing)) + 0.5
    return low, low + 1.0


class PlacementError(RuntimeError):
    """No position satisfied a finding's constraints (rare; ``generate_case`` redraws the case)."""


def lobe_list_name(codes) -> str:
    """Canonical wording for a set of lobes: 'Right upper lobe and right middle lobe'."""
    names = [LOBE_NAMES[c] for c in sorted(codes)]
    text = " and ".join(n.lower() for n in names)
    return text[0].upper() + text[1:]


def nearest_cm(diameter_mm: float) -> int:
    return int(np.floor(diameter_mm / 10.0 + 0.5))


def finding_row(case_id: str, finding_id: str, kind: str, grid: Grid, centre_ijk, **extra) -> dict:
    centre = grid.voxel_to_world(centre_ijk)
    return {
        "case_id": case_id, "finding_id": finding_id, "kind": kind,
        "centre_ras_mm": [round(float(v), 2) for v in centre],
        "centre_voxel_ras": [int(v) for v in centre_ijk], **extra,
    }


def carina_level(anatomy: Anatomy, z_world: float) -> str:
    carina_world = anatomy.params.carina_z + anatomy.grid.patient_centre[2]
    return "Above" if z_world > carina_world else "Below"


def place_nodule(anatomy: Anatomy, rng: np.random.Generator, side: int, case_id: str,
                 finding_id: str, centricity: str | None = None, anterior: bool | None = None,
                 size_class: int | None = None, above_carina: bool | None = None
                 ) -> dict[str, Any]:
    """Put one solid nodule (or mass) well inside one lobe and clearly in one depth class.

    ``centricity``, ``anterior``, ``size_class`` and ``above_carina`` (the whole nodule at least
    ``LEVEL_GAP_MM`` above or below the carina) ask for a description (the split balances its
    answers this way); when nothing fits, later attempts relax them one by one.
    """
    grid, p = anatomy.grid, anatomy.params
    # Every candidate lies in the cavity: the search runs in its box (the same candidates, in
    # the same order, as over the whole grid; ``lo`` maps them back).
    box, lo = _cavity_box(anatomy, side)
    cavity = anatomy.cavity[side][box]
    depth_frac, lateral_frac = (f[box] for f in lung_fractions(anatomy.cavity[side], side))
    edt = cavity_distance_mm(anatomy.cavity[side], grid.spacing)[box]
    x, y, z = _box_axes(grid, box)
    fissure_gap = np.min(np.stack([np.broadcast_to(d, cavity.shape) for d in
                                   anatomy.lobe_distance(side, x, y, z).values()]), axis=0)
    carina_gap = np.broadcast_to(np.abs(z - p.carina_z), cavity.shape)
    lobes = anatomy.lobes[box]
    lobe_codes = list(LOBES_OF_SIDE[side])
    gap_low, gap_high = subpleural_gap_range(grid.spacing)
    for attempt in range(60):
        relax = attempt // 15  # 0: as asked; 1: any lobe; 2: any size; 3: any description
        want = centricity if centricity and relax < 3 else \
            str(rng.choice(["Central", "Peripheral", "Subpleural"]))
        front = anterior if anterior is not None and relax < 3 else bool(rng.integers(2))
        size = size_class if size_class and relax < 2 else int(rng.choice([1, 1, 2, 3]))
        diameter = float(np.round(rng.uniform(*NODULE_SIZE_RANGES_MM[size]), 1))
        radius = diameter / 2.0
        ok = cavity & (carina_gap >= CARINA_MARGIN_MM)
        if above_carina is not None and relax < 3:
            ok &= _level_band(z - p.carina_z, radius, above_carina)
        if relax < 1:
            ok &= lobes == lobe_codes[int(rng.integers(len(lobe_codes)))]
        ok &= fissure_gap >= radius + 5.0
        ok &= (depth_frac >= 1 - DEPTH_MARGIN) if front else (depth_frac <= DEPTH_MARGIN)
        if want == "Central":
            ok &= (lateral_frac <= CENTRAL_MAX) & (edt >= radius + gap_low)
        elif want == "Peripheral":
            ok &= (lateral_frac >= PERIPHERAL_MIN) & (lateral_frac <= 0.9)
            ok &= edt >= radius + PERIPHERAL_MIN_GAP_MM
        else:
            ok &= (lateral_frac >= PERIPHERAL_MIN) & (edt >= radius + gap_low)
            ok &= edt <= radius + gap_high
        candidates = np.argwhere(ok)
        if len(candidates) == 0:
            continue
        local = tuple(candidates[rng.integers(len(candidates))])
        centre = np.asarray(local) + lo
        mask = ball_mask(grid.shape, centre, radius, grid.spacing)
        anatomy.labels[mask] = NODULE
        lobe = int(anatomy.lobes[tuple(centre)])
        world = grid.voxel_to_world(centre)
        kind = "mass" if diameter >= MASS_THRESHOLD_MM else "nodule"
        return finding_row(
            case_id, finding_id, kind, grid, centre,
            side=SIDE_NAMES[side], lobes=[LOBE_NAMES[lobe]],
            depth="Anterior" if front else "Posterior", centricity=want,
            level_vs_carina=carina_level(anatomy, world[2]), size_mm=diameter,
            size_cm=nearest_cm(diameter), attenuation="Solid",
            depth_fraction=round(float(depth_frac[local]), 3),
            lateral_fraction=round(float(lateral_frac[local]), 3),
            pleural_gap_mm=round(float(edt[local] - radius), 2),
            volume_ml=round(float(mask.sum() * np.prod(grid.spacing) / 1000.0), 2),
        )
    raise PlacementError(f"{case_id}: no room for a nodule on the {SIDE_NAMES[side]} side")


def _cavity_box(anatomy: Anatomy, side: int, pad: int = 0) -> tuple[tuple[slice, ...], np.ndarray]:
    """The bounding box of one pleural cavity (plus ``pad`` voxels) and its lowest corner."""
    box = _bounding_box(anatomy.cavity[side], pad=pad)
    return box, np.array([s.start for s in box])


def _box_axes(grid: Grid, box) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x, y, z = grid.local_axes()
    return x[box[0]], y[:, box[1]], z[:, :, box[2]]


def _level_band(height_mm: np.ndarray, radius: float, above: bool) -> np.ndarray:
    """Centres whose ball of ``radius`` lies wholly above (or below) the carina by the gap."""
    return (height_mm >= radius + LEVEL_GAP_MM) if above else (height_mm <= -radius - LEVEL_GAP_MM)


def place_effusion(anatomy: Anatomy, rng: np.random.Generator, sides: list[int], case_id: str,
                   finding_id: str) -> dict[str, Any]:
    """A free pleural effusion, dependent: in a supine patient fluid layers posteriorly (a coronal
    fluid level) and collects at the base, so it fills the posterior costophrenic recess."""
    grid, p = anatomy.grid, anatomy.params
    _, y, z = grid.local_axes()
    depth_mm = float(np.round(rng.uniform(25.0, 40.0), 1))
    top_mm = float(np.round(rng.uniform(60.0, 90.0), 1))  # above the dome of the diaphragm
    volume = 0.0
    for side in sides:
        cavity = anatomy.cavity[side]
        y_min = float(np.broadcast_to(y, grid.shape)[cavity].min())
        dome = p.dome_right_z if side == RIGHT else p.dome_left_z
        fluid = cavity & np.broadcast_to((y < y_min + depth_mm) & (z < dome + top_mm), grid.shape)
        anatomy.labels[fluid] = EFFUSION
        fluid |= _fill_cut_off_air(anatomy, side)
        volume += float(fluid.sum() * np.prod(grid.spacing) / 1000.0)
    side_name = "Bilateral" if len(sides) == 2 else SIDE_NAMES[sides[0]]
    centre = np.argwhere(anatomy.labels == EFFUSION).mean(axis=0).round().astype(int)
    return finding_row(case_id, finding_id, "pleural_effusion", grid, centre, side=side_name,
                depth="Posterior", level="Basal", layer_depth_mm=depth_mm,
                top_above_dome_mm=top_mm, volume_ml=round(volume, 1))


def _fill_cut_off_air(anatomy: Anatomy, side: int) -> np.ndarray:
    """Air of a lobe that the fluid level cut off from the rest of the lobe (a pocket in the
    deepest recess) becomes fluid too, as it fills in a patient: each lobe stays one piece of
    aerated lung. Returns the voxels so filled."""
    box, _ = _cavity_box(anatomy, side, pad=1)  # every lobe voxel and its neighbours
    labels, lobes = anatomy.labels[box], anatomy.lobes[box]
    filled = np.zeros(labels.shape, bool)
    wet = ndi.binary_dilation(labels == EFFUSION)
    for code in LOBES_OF_SIDE[side]:
        pieces, n = ndi.label((labels == LUNG) & (lobes == code))
        if n > 1:
            sizes = np.bincount(pieces.ravel())
            sizes[0] = 0
            touching = np.unique(pieces[wet & (pieces > 0)])
            cut = touching[touching != int(sizes.argmax())]
            filled |= np.isin(pieces, cut)
    labels[filled] = EFFUSION  # a view: written into anatomy.labels
    out = np.zeros(anatomy.labels.shape, bool)
    out[box] = filled
    return out


def _lobe_air_components_intact(anatomy: Anatomy, side: int) -> bool:
    """True when each lobe's remaining air is one piece (no lobe cut in two by a finding)."""
    box, _ = _cavity_box(anatomy, side)  # every lobe voxel of the side
    air = np.isin(anatomy.labels[box], (LUNG, EMPHYSEMA))
    min_voxels = 1000.0 / np.prod(anatomy.grid.spacing)  # 1 mL
    for code in LOBES_OF_SIDE[side]:
        lab, n = ndi.label(air & (anatomy.lobes[box] == code))
        sizes = np.bincount(lab.ravel())[1:]
        if n == 0 or (sizes >= min_voxels).sum() != 1:
            return False
    return True


def place_consolidation(anatomy: Anatomy, rng: np.random.Generator, side: int, crosses: bool,
                        case_id: str, finding_id: str, above_carina: bool | None = None
                        ) -> dict[str, Any]:
    """An airspace consolidation confined to one lobe, or one that crosses a fissure.

    A confined one stops short of the fissure band, so the fissure stays visible; a crossing one
    straddles the fissure (the band under it is replaced) with at least 30% of it on each side.
    ``above_carina`` asks for an upper-zone (True) or lower-zone (False) consolidation, wholly
    above or below the carina's level (dropped after half the attempts when nothing fits).
    """
    grid, p = anatomy.grid, anatomy.params
    z_all = grid.local_axes()[2]
    cavity = anatomy.cavity[side]
    free = cavity & (anatomy.labels != EFFUSION)
    if (anatomy.labels == EFFUSION).any():  # keep 6 mm of aerated lung above any fluid
        near_fluid = ndi.binary_dilation(anatomy.labels == EFFUSION, iterations=4)
        free &= ~near_fluid
    box, lo = _cavity_box(anatomy, side)  # candidates searched in the cavity's box, as nodules
    x, y, z = _box_axes(grid, box)
    free_box, lobes = free[box], anatomy.lobes[box]
    distances = {k: np.broadcast_to(v, free_box.shape)
                 for k, v in anatomy.lobe_distance(side, x, y, z).items()}
    edt = cavity_distance_mm(cavity, grid.spacing)[box]
    saved = anatomy.labels.copy()
    # the upper zone is narrow: a smaller consolidation there leaves the lobe's air in one piece
    radii = (14.0, 20.0) if above_carina else (18.0, 26.0)
    for attempt in range(60):
        radius = float(np.round(rng.uniform(*radii), 1))
        if crosses:
            fissure_name = rng.choice(sorted(distances))
            near = distances[fissure_name] <= 0.3 * radius
            others = [d for k, d in distances.items() if k != fissure_name]
            for d in others:
                near &= d >= radius + 8.0
            ok = free_box & near & (edt >= 0.6 * radius)
        else:
            ok = free_box & (edt >= 0.5 * radius)
            for d in distances.values():
                ok &= d >= 0.5 * radius
            ok &= lobes != 2  # the thin middle lobe would be cut in two
        if above_carina is not None and attempt < 30:
            ok &= _level_band(z - p.carina_z, radius, above_carina)
        candidates = np.argwhere(ok)
        if len(candidates) == 0:
            continue
        centre = candidates[rng.integers(len(candidates))] + lo
        region = ball_mask(grid.shape, centre, radius, grid.spacing) & free
        if not crosses:
            home = anatomy.lobes[tuple(centre)]
            region &= (anatomy.lobes == home) & (anatomy.labels != FISSURE)
        codes, counts = np.unique(anatomy.lobes[region], return_counts=True)
        shares = dict(zip(codes.tolist(), (counts / counts.sum()).tolist()))
        involved = sorted(c for c, s in shares.items() if s >= 0.15)
        if crosses and (len(involved) != 2 or min(shares[c] for c in involved) < 0.30):
            continue
        if region.sum() * np.prod(grid.spacing) < 8000.0:
            continue
        anatomy.labels[region] = CONSOLIDATION
        if not _lobe_air_components_intact(anatomy, side):
            anatomy.labels[...] = saved
            continue
        fissure_label = {"oblique": "oblique (major)", "horizontal": "horizontal (minor)"}
        heights = z_all.ravel()[np.nonzero(region.any(axis=(0, 1)))[0]] - p.carina_z
        level = "Above" if heights.min() > 0 else "Below" if heights.max() < 0 else "Across"
        return finding_row(
            case_id, finding_id, "consolidation", grid, centre, side=SIDE_NAMES[side],
            lobes=[LOBE_NAMES[c] for c in involved], lobes_text=lobe_list_name(involved),
            crosses_fissure=bool(crosses),
            fissure=fissure_label[str(fissure_name)] if crosses else None,
            level_vs_carina=level, radius_mm=radius,
            volume_ml=round(float(region.sum() * np.prod(grid.spacing) / 1000.0), 1),
            lobe_shares={LOBE_NAMES[c]: round(s, 3) for c, s in shares.items()},
        )
    raise PlacementError(f"{case_id}: no room for a consolidation on the {SIDE_NAMES[side]} side")


def paint_emphysema(anatomy: Anatomy, rng: np.random.Generator, case_id: str,
                    finding_id: str) -> dict[str, Any]:
    """Centrilobular-like low-attenuation spots in both upper lobes (never on a fissure)."""
    grid = anatomy.grid
    upper = np.isin(anatomy.lobes, (1, 4)) & (anatomy.labels == LUNG)
    spots = np.zeros(grid.shape, bool)
    candidates = np.argwhere(upper)
    for centre in candidates[rng.choice(len(candidates), size=40, replace=False)]:
        spots |= ball_mask(grid.shape, centre, float(rng.uniform(4.0, 8.0)), grid.spacing)
    region = spots & upper
    anatomy.labels[region] = EMPHYSEMA
    centre = np.argwhere(region).mean(axis=0).round().astype(int)
    return finding_row(case_id, finding_id, "emphysema", grid, centre, side="Bilateral",
                lobes=[LOBE_NAMES[1], LOBE_NAMES[4]],
                volume_ml=round(float(region.sum() * np.prod(grid.spacing) / 1000.0), 1))
