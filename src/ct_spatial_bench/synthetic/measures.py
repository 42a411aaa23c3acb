"""Measures shared by the generator (to place findings) and the geometry baseline (to read them).

Defining "how far across the lung" once keeps ground truth and reader on the same definition:
a finding's depth is its position along the lung's antero-posterior run through its centre, its
centricity its position along the medio-lateral run, and its pleural gap the distance to the
nearest voxel outside the pleural cavity.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi

RIGHT = +1  # sign of world x on the patient's right (RAS+); axis 0 of a RAS array runs L -> R


def run_fraction(mask: np.ndarray, axis: int) -> np.ndarray:
    """For each voxel of ``mask``, its relative position (0..1) within its run along ``axis``.

    A run is a maximal stretch of consecutive mask voxels along the axis. 0 is the run's
    lowest-index end, 1 its highest. Used both to place findings (generator) and to describe them
    (geometry baseline), so both read "how far across the lung" the same way.
    """
    m = np.moveaxis(mask, axis, -1)
    n = m.shape[-1]
    idx = np.broadcast_to(np.arange(n), m.shape)
    prev = np.concatenate([np.zeros_like(m[..., :1]), m[..., :-1]], axis=-1)
    nxt = np.concatenate([m[..., 1:], np.zeros_like(m[..., :1])], axis=-1)
    start = np.maximum.accumulate(np.where(m & ~prev, idx, -1), axis=-1)
    end_rev = np.where(m & ~nxt, idx, n)[..., ::-1]
    end = np.minimum.accumulate(end_rev, axis=-1)[..., ::-1]
    length = np.maximum(end - start, 1)
    frac = np.where(m, (idx - start) / length, np.nan).astype(np.float32)
    return np.moveaxis(frac, -1, axis)


def _ball_offsets(radius_mm: float, spacing) -> np.ndarray:
    """Voxel offsets (n,3) whose centres lie within ``radius_mm`` of the origin."""
    reach = [int(np.ceil(radius_mm / s)) for s in spacing]
    grids = np.meshgrid(*[np.arange(-r, r + 1) for r in reach], indexing="ij")
    offs = np.stack([g.ravel() for g in grids], axis=1)
    dist = np.sqrt(((offs * np.asarray(spacing)) ** 2).sum(axis=1))
    return offs[dist <= radius_mm]


def ball_mask(shape, centre_ijk, radius_mm: float, spacing) -> np.ndarray:
    mask = np.zeros(shape, bool)
    idx = _ball_offsets(radius_mm, spacing) + np.asarray(centre_ijk)
    keep = np.all((idx >= 0) & (idx < np.asarray(shape)), axis=1)
    mask[tuple(idx[keep].T)] = True
    return mask


def _bounding_box(mask: np.ndarray, pad: int = 1) -> tuple[slice, ...]:
    idx = np.argwhere(mask)
    lo = np.maximum(idx.min(axis=0) - pad, 0)
    hi = np.minimum(idx.max(axis=0) + pad + 1, mask.shape)
    return tuple(slice(int(a), int(b)) for a, b in zip(lo, hi))


def cavity_distance_mm(cavity: np.ndarray, spacing) -> np.ndarray:
    """Distance (mm) from each cavity voxel to the nearest voxel outside it (0 outside).

    Computed in the cavity's bounding box padded by one background voxel, which is exact: any
    outside voxel beyond the box is farther than its projection onto the padding layer.
    """
    box = _bounding_box(cavity)
    out = np.zeros(cavity.shape, np.float32)
    out[box] = ndi.distance_transform_edt(cavity[box], sampling=spacing)
    return out


def lung_fractions(cavity: np.ndarray, side: int) -> tuple[np.ndarray, np.ndarray]:
    """Depth fraction (0 posterior .. 1 anterior) and lateral fraction (0 medial .. 1 lateral)."""
    box = _bounding_box(cavity)
    depth = np.full(cavity.shape, np.nan, np.float32)
    lateral = np.full(cavity.shape, np.nan, np.float32)
    depth[box] = run_fraction(cavity[box], axis=1)
    lateral[box] = run_fraction(cavity[box], axis=0)
    if side != RIGHT:  # axis 0 increases towards the patient's right: the left lung's rim is at 0
        lateral = 1.0 - lateral
    return depth, lateral
