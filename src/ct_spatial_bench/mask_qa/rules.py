"""The clinical rules of the mask track: which measured relations a radiologist would sign.

A relation can be exact under a convention (centroids) and still not be a statement a reader
would make. These rules decide what is asked; ``questions.py`` asks it.

- A finding in several pieces on both sides of the midline (a bilateral effusion) is one
  structure only to the question "is it on both sides?"; every single-location question is asked
  of each side's piece ("the right pleural effusion").
- "A above B" (anterior, ...) only where the two extents on that axis are apart by at least
  ``extent_gap_mm``: one lies wholly above the other. A lobe is never such a reference: a finding
  in it lies within its extent, one outside it is not measured against it.
- No relation on an axis to a structure spanning the scan on that axis (the vertebral column
  from apex to base): it is above and below everything.
- "Closer to the midline" only where centroid and nearest point agree on the order.
- Size only at a volume ratio a reader can see (``size_ratio_min``, 1.5).
- A fluid collection (table ``collection: true``) gets no lobe count and no diameter.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from .measure import Measured, VolumeMeasures


def scan_extent(vol: VolumeMeasures) -> np.ndarray:
    """(3, 2) world min and max of the grid's voxel centres along x, y, z."""
    corners = np.array([[i, j, k] for i in (0, vol.shape[0] - 1) for j in (0, vol.shape[1] - 1)
                        for k in (0, vol.shape[2] - 1)], float)
    world = corners @ vol.affine[:3, :3].T + vol.affine[:3, 3]
    return np.stack([world.min(axis=0), world.max(axis=0)], axis=1)


def extent(m: Measured, axis: int) -> tuple[float, float]:
    low, high = m.bounds[axis]
    return float(low), float(high)


def spans_scan(vol: VolumeMeasures, m: Measured, axis: int, share: float) -> bool:
    """Whether ``m`` covers at least ``share`` of the scan's extent along ``axis``."""
    low, high = scan_extent(vol)[axis]
    mine = extent(m, axis)
    return high > low and (mine[1] - mine[0]) >= share * (high - low)


def separation_mm(a: Measured, b: Measured, axis: int) -> float:
    """Signed gap (mm) between the two extents along ``axis``: > 0 when ``a`` lies wholly on the
    + side of ``b`` (above, anterior, right), < 0 wholly on the - side, 0 when they overlap."""
    (a_low, a_high), (b_low, b_high) = extent(a, axis), extent(b, axis)
    if a_low > b_high:
        return a_low - b_high
    if b_low > a_high:
        return -(b_low - a_high)
    return 0.0


def nearest_midline_mm(vol: VolumeMeasures, m: Measured) -> float:
    """Distance from the midline plane to the structure's nearest voxel centre (0 if it crosses)."""
    offsets = m.world[:, 0] - vol.midline_x
    if offsets.min() <= 0 <= offsets.max():
        return 0.0
    return float(np.abs(offsets).min())


def side_pieces(vol: VolumeMeasures, m: Measured, min_share: float = 0.05
                ) -> tuple[Measured, Measured] | None:
    """A finding's right and left pieces when it lies on both sides of the midline in separate
    connected pieces (each at least ``min_share`` of it), else None."""
    from scipy import ndimage as ndi

    if m.structure.kind != "finding":
        return None
    labels, n = ndi.label(m.mask[m.box], structure=np.ones((3, 3, 3), bool))
    if n < 2:
        return None
    lo = np.array([s.start for s in m.box])
    ijk = np.argwhere(labels > 0)
    world = (ijk + lo) @ vol.affine[:3, :3].T + vol.affine[:3, 3]
    component = labels[tuple(ijk.T)]
    right = world[:, 0] > vol.midline_x
    sides = {}
    for c in range(1, n + 1):
        mine = component == c
        share_right = float(right[mine].mean())
        if share_right in (0.0, 1.0):
            sides.setdefault("right" if share_right == 1.0 else "left", []).append(mine)
        else:
            return None  # a piece across the midline: not two sides' pieces
    if set(sides) != {"right", "left"}:
        return None
    pieces = []
    for side in ("right", "left"):
        chosen = np.any(sides[side], axis=0)
        if chosen.mean() < min_share:
            return None
        mask = np.zeros(vol.shape, bool)
        mask[tuple((ijk[chosen] + lo).T)] = True
        structure = replace(m.structure, key=f"{m.key}_{side}", noun=f"{side} {m.structure.noun}",
                            side=side)
        pieces.append(Measured(structure, mask, world[chosen],
                               float(chosen.sum()) * vol.voxel_ml, m.box))
    return pieces[0], pieces[1]


def split_bilateral(vol: VolumeMeasures) -> list[str]:
    """Replace each finding in pieces on both sides by its two sides' pieces in ``vol.present``;
    returns the keys of the findings so split (each kept aside in ``vol.bilateral``)."""
    vol.bilateral = getattr(vol, "bilateral", {})
    for key, m in list(vol.present.items()):
        pieces = side_pieces(vol, m)
        if pieces is None:
            continue
        del vol.present[key]
        vol.bilateral[key] = m
        for piece in pieces:
            vol.present[piece.key] = piece
    return sorted(vol.bilateral)
