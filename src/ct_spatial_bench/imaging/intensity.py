"""Hounsfield-unit windows and value ranges.

A spec declares its intensity as one of ``minmax`` (the volume's own extremes to 0..1),
``window(lo, hi)`` (HU clipped to lo..hi, mapped to the spec's ``window_range``) or
``percentile(lo, hi)`` (the volume's lo-th..hi-th percentiles to 0..1, clipped: MONAI's
``ScaleIntensityRangePercentiles(lower, upper, b_min=0, b_max=1, clip=True)``).
"""

from __future__ import annotations

import re
from typing import Any

_INTENSITY = re.compile(
    r"\s*(minmax|window|percentile)\s*(?:\(\s*([^,()]+?)\s*,\s*([^,()]+?)\s*\))?\s*")


def parse_intensity(text: str, spec_name: str = "") -> dict[str, Any]:
    """The spec fields that ``minmax``, ``window(lo, hi)`` or ``percentile(lo, hi)`` set."""
    match = _INTENSITY.fullmatch(str(text))
    kind = match and match.group(1)
    try:
        bounds = ((float(match.group(2)), float(match.group(3)))
                  if match and match.group(2) else None)
    except ValueError:
        bounds, kind = None, None
    if not kind or (kind == "minmax") != (bounds is None):
        raise ValueError(f"input spec {spec_name!r}: intensity {text!r} is not one of 'minmax', "
                         "'window(lo, hi)' or 'percentile(lo, hi)'")
    if bounds is not None and bounds[1] <= bounds[0]:
        raise ValueError(f"input spec {spec_name!r}: intensity {text!r}: hi must exceed lo")
    if kind == "minmax":
        return {"normalise": "minmax"}
    if kind == "window":
        return {"window": bounds}
    if not 0 <= bounds[0] < bounds[1] <= 100:
        raise ValueError(f"input spec {spec_name!r}: percentiles must lie in 0..100")
    return {"normalise": "percentile", "percentiles": bounds}


def intensity_of(spec: Any) -> str:
    """The spec's intensity in the declared form (``window(...)`` then ``minmax``, if both)."""
    def number(value: float) -> str:
        return f"{value:g}"

    parts = []
    if spec.window is not None:
        low, high = spec.window
        target = "" if tuple(spec.window_range) == (0.0, 1.0) else (
            f" -> {number(spec.window_range[0])}..{number(spec.window_range[1])}")
        parts.append(f"window({number(low)}, {number(high)}){target}")
    if spec.normalise == "minmax":
        parts.append("minmax")
    elif spec.normalise == "percentile":
        parts.append(f"percentile({number(spec.percentiles[0])}, {number(spec.percentiles[1])})")
    if spec.rgb_windows:
        parts.append("rgb of windows " + ", ".join(
            f"{number(lo)}..{number(hi)}" for lo, hi in spec.rgb_windows))
    return " then ".join(parts) or "HU as stored"


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


class IntensityMap:
    """An HU window and/or min-max scaling as one clip and one affine map, ``a * v + b``.

    Both are linear after the clip, so they commute with linear interpolation: the clip is applied
    to the integer voxels a resize reads, the map to the (smaller) result.
    """

    def __init__(self, clip: tuple[float, float] | None, slope: float, intercept: float,
                 constant: bool = False) -> None:
        self.clip, self.slope, self.intercept, self.constant = clip, slope, intercept, constant

    @classmethod
    def of_spec(cls, data: Any, spec: Any) -> IntensityMap | None:
        """The map ``spec`` asks for (``window`` then ``normalise``), or None when it asks for none.

        Min-max uses the whole volume's extremes (after the window), as normalising before a crop.
        """
        import numpy as np

        if spec.window is None and spec.normalise is None:
            return None
        if spec.normalise == "percentile":  # MONAI ScaleIntensityRangePercentiles, clip=True
            if spec.window is not None:
                raise ValueError(f"input spec {spec.name!r}: a percentile intensity takes no "
                                 "window")
            low, high = (float(v) for v in np.percentile(data, spec.percentiles))
            if high == low:
                return cls(None, 0.0, 0.0, constant=True)
            return cls((low, high), 1.0 / (high - low), -low / (high - low))
        clip = (-np.inf, np.inf)
        slope, intercept = 1.0, 0.0
        if spec.window is not None:
            low, high = spec.window
            if high <= low:
                raise ValueError(f"window high ({high}) must exceed low ({low})")
            r0, r1 = spec.window_range
            clip = (low, high)
            slope = (r1 - r0) / (high - low)
            intercept = r0 - low * slope
        if spec.normalise == "minmax":
            lo, hi = (float(np.clip(v, *clip)) * slope + intercept
                      for v in (data.min(), data.max()))
            if hi == lo:
                return cls(None, 0.0, 0.0, constant=True)
            slope, intercept = slope / (hi - lo), (intercept - lo) / (hi - lo)
        return cls(clip if spec.window is not None else None, slope, intercept)

    def scale(self, array: Any) -> Any:
        """The affine map on already clipped (e.g. interpolated) values, as float32."""
        import numpy as np

        out = np.asarray(array, dtype=np.float32)
        if self.constant:
            return np.zeros_like(out)
        out = out * np.float32(self.slope)
        out += np.float32(self.intercept)
        return out

    def apply(self, array: Any) -> Any:
        """Clip (to the window, if any), then map."""
        import numpy as np

        return self.scale(array if self.clip is None else np.clip(array, *self.clip))
