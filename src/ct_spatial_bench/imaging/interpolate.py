"""Separable linear and nearest interpolation that reads only the voxels it needs.

Trilinear interpolation is three 1-D interpolations, one per axis. Planning each axis first (which
two source indices and which weight make every output index) lets a crop that follows be applied
to the plan instead of the result, and lets the largest reduction run first, so a 512x512x300
int16 volume resized to 32x256x256 touches 64 of its slices and is cast to float only there.
The index maps are MONAI's: ``Resize`` (torch ``interpolate``, ``align_corners=False``) and
``Spacing`` (voxel 0 kept, border padding), so the arrays equal the MONAI chain's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class AxisPlan:
    """Output index i reads ``low[i]`` and ``high[i]`` with weight ``weight[i]`` on ``high``."""

    low: np.ndarray
    high: np.ndarray
    weight: np.ndarray | None  # None: nearest (or exact) indices, no blending
    n_in: int

    @property
    def size(self) -> int:
        return len(self.low)

    def is_identity(self) -> bool:
        return (self.size == self.n_in and self.weight is None
                and np.array_equal(self.low, np.arange(self.n_in)))

    def center_crop(self, target: int) -> AxisPlan:
        """The plan of a centre crop to ``target`` outputs (MONAI's CenterSpatialCrop start)."""
        if target >= self.size:
            return self
        start = (self.size - target) // 2
        cut = slice(start, start + target)
        weight = None if self.weight is None else self.weight[cut]
        return AxisPlan(self.low[cut], self.high[cut], weight, self.n_in)


def _from_source(src: np.ndarray, n_in: int) -> AxisPlan:
    """A linear plan from fractional source coordinates, clamped to the border."""
    src = np.clip(src, 0.0, n_in - 1)
    low = np.floor(src).astype(np.intp)
    high = np.minimum(low + 1, n_in - 1)
    weight = (src - low).astype(np.float32)
    if not weight.any():
        return AxisPlan(low, low, None, n_in)
    return AxisPlan(low, high, weight, n_in)


def resize_plan(n_in: int, n_out: int, order: int = 1) -> AxisPlan:
    """torch ``interpolate(size=...)``: linear with half-pixel centres, or nearest (order 0)."""
    if n_in == n_out:
        index = np.arange(n_in)
        return AxisPlan(index, index, None, n_in)
    scale = n_in / n_out
    if order == 0:
        low = np.minimum(np.floor(np.arange(n_out) * scale).astype(np.intp), n_in - 1)
        return AxisPlan(low, low, None, n_in)
    src = (np.arange(n_out) + 0.5) * scale - 0.5
    return _from_source(np.maximum(src, 0.0), n_in)


def spacing_plan(n_in: int, spacing_in: float, spacing_out: float, order: int = 1) -> AxisPlan:
    """MONAI ``Spacing``: the first voxel stays put, ``round((n-1) * in/out + 1)`` outputs,
    output i samples source ``i * out/in``; beyond the last voxel the border value repeats."""
    ratio = spacing_out / spacing_in
    n_out = max(1, int(np.round((n_in - 1) / ratio + 1.0)))
    src = np.arange(n_out) * ratio
    if order == 0:
        low = np.minimum(np.rint(src).astype(np.intp), n_in - 1)
        return AxisPlan(low, low, None, n_in)
    return _from_source(src, n_in)


def interpolate(array: Any, plans: list[AxisPlan],
                clip: tuple[float, float] | None = None) -> np.ndarray:
    """Apply one plan per leading axis of ``array`` (trailing axes, e.g. RGB, are carried).

    The axis that shrinks most goes first, so later passes work on less data. ``clip`` bounds the
    source values before they are blended (an HU window applied before a resize). The result is
    float32 once any axis blends; an all-index plan keeps the input dtype.
    """
    data = np.asanyarray(array)
    order = sorted(range(len(plans)), key=lambda a: plans[a].size / max(plans[a].n_in, 1))
    clipped = clip is None
    for axis in order:
        plan = plans[axis]
        if plan.is_identity():
            continue
        low = _take(data, plan.low, axis)
        if plan.weight is None:
            data = low
        else:
            low = low.astype(np.float32)  # copies: the in-place steps below own them
            high = _take(data, plan.high, axis).astype(np.float32)
            if not clipped:
                np.clip(low, *clip, out=low)
                np.clip(high, *clip, out=high)
                clipped = True
            shape = [1] * data.ndim
            shape[axis] = plan.size
            high -= low
            high *= plan.weight.reshape(shape)
            high += low
            data = high
    if not clipped:
        data = np.clip(data, *clip)
    return data


def _take(array: np.ndarray, index: np.ndarray, axis: int) -> np.ndarray:
    """``np.take`` that keeps the memory layout (a NIfTI volume is Fortran-ordered; ``np.take``
    would write a C-ordered copy, ~100x slower along the slice axis)."""
    return array[(slice(None),) * axis + (index,)]
