"""Hounsfield-unit windows and value ranges."""

from __future__ import annotations

from typing import Any


def hounsfield(image: Any) -> Any:
    """The voxels of ``image`` in HU, keeping integer storage where the header allows.

    A header with slope 1 and intercept 0 (or none) is read as stored, so an int16 volume stays
    int16 and costs no float copy; otherwise nibabel applies the scaling once.
    """
    import numpy as np

    proxy = image.dataobj
    if not hasattr(proxy, "get_unscaled"):  # an in-memory image: the array is already HU
        return np.asanyarray(proxy)
    slope, inter = proxy.slope, proxy.inter
    if (slope in (None, 1) or np.isnan(slope)) and (inter in (None, 0) or np.isnan(inter)):
        return np.asanyarray(proxy.get_unscaled())
    return np.asanyarray(proxy)


def window(array: Any, low: float, high: float, out_range: tuple[float, float] = (0.0, 1.0)) -> Any:
    """Clip ``array`` to [low, high] HU and map that linearly to ``out_range`` as float32."""
    import numpy as np

    if high <= low:
        raise ValueError(f"window high ({high}) must exceed low ({low})")
    clipped = np.clip(array, low, high).astype(np.float32)
    scale = (out_range[1] - out_range[0]) / (high - low)
    return (clipped - low) * scale + out_range[0]


def min_max(array: Any) -> Any:
    """Scale to [0, 1] by the volume's own minimum and maximum (M3D's normalisation)."""
    import numpy as np

    arr = np.asarray(array, dtype=np.float32)
    lo, hi = float(arr.min()), float(arr.max())
    return np.zeros_like(arr) if hi == lo else (arr - lo) / (hi - lo)
