"""Slices, multi-window RGB and depth rules: how 2D and depth-limited models see a volume.

Pure functions on arrays whose last spatial axis is the slice (z) axis, as ``apply_spec`` holds
them before the final transpose.
"""

from __future__ import annotations

from typing import Any

SAMPLINGS = ("linspace", "medgemma", "hulu_med")


def sample_slice_indices(n_slices: int, count: int, method: str = "linspace") -> list[int]:
    """Indices of ``count`` slices spread over ``n_slices``, in order; all of them if fewer.

    ``linspace``: both ends included, ``round(linspace(0, n-1, count))`` (the CT-SpatialVQA
    MedEvalKit/Lingshu runs; one slice is the middle one, ``n // 2``). ``medgemma``: ``round(i / count * (n - 1))`` for i = 1..count, the
    sampling of Google's MedGemma 1.5 CT notebook (it skips the first slice and keeps the last).
    ``hulu_med``: ``linspace(0, n-1, count, dtype=int)`` (truncated), always ``count`` slices, a
    short volume's slices repeated, as Hulu-Med's ``slice_nifti_to_images`` samples.
    """
    if count <= 0:
        raise ValueError(f"slice count must be positive, got {count}")
    if method == "hulu_med":  # mm_utils.slice_nifti_to_images: linspace(dtype=int), repeats kept
        import numpy as np

        return [int(i) for i in np.linspace(0, n_slices - 1, count, dtype=int)]
    if n_slices <= count:
        return list(range(n_slices))
    if method == "linspace":
        if count == 1:  # the middle slice, as VILA-M3's demo picks it
            return [n_slices // 2]
        step = (n_slices - 1) / (count - 1)
        return [int(round(i * step)) for i in range(count)]
    if method == "medgemma":
        return [int(round(i / count * (n_slices - 1))) for i in range(1, count + 1)]
    raise ValueError(f"unknown slice sampling {method!r}; known: {SAMPLINGS}")


def window_to_uint8(array: Any, low: float, high: float) -> Any:
    """Clip to [low, high] HU and map to 0..255, rounded to the nearest integer (uint8)."""
    import numpy as np

    from ct_spatial_bench.imaging.intensity import window

    return np.round(window(array, low, high, (0.0, 255.0))).astype(np.uint8)


def rgb_of_windows(array: Any, windows: tuple[tuple[float, float], ...]) -> Any:
    """One uint8 channel per HU window, stacked last: MedGemma 1.5's CT representation
    (wide -1024..1024, soft tissue -135..215, brain 0..80)."""
    import numpy as np

    if len(windows) != 3:
        raise ValueError(f"an RGB image needs three windows, got {len(windows)}")
    array = np.asanyarray(array)
    if array.dtype == np.int16:  # one table lookup per voxel instead of a float pass per window
        # entry i of a table holds the int16 value whose bit pattern is i, so the voxels' own
        # bits (viewed as uint16, no copy) index it
        values = np.arange(65536, dtype=np.uint16).view(np.int16).astype(np.int64)
        index = array.view(np.uint16)
        out = np.empty(array.shape + (3,), dtype=np.uint8)
        for channel, (lo, hi) in enumerate(windows):
            out[..., channel] = window_to_uint8(values, lo, hi)[index]
        return out
    return np.stack([window_to_uint8(array, lo, hi) for lo, hi in windows], axis=-1)


def depth_by_rule(depth: int, multiple: int | None, maximum: int | None) -> int:
    """The depth a depth-limited model takes for a volume of ``depth`` slices.

    RadFM picks, from 4, 8, ..., 64, the value closest to the volume's depth (a tie goes to the
    smaller one), so a CT of 300 slices becomes 64.
    """
    if multiple is None:
        return depth if maximum is None else min(depth, maximum)
    top = maximum if maximum is not None else max(multiple, depth)
    candidates = range(multiple, top + 1, multiple)
    return min(candidates, key=lambda c: (abs(c - depth), c))


def montage(slices: Any, columns: int | None = None) -> Any:
    """Tile ``(n, h, w[, c])`` slices row by row into one image (blank tiles fill the grid)."""
    import math

    import numpy as np

    arr = np.asarray(slices)
    n, h, w = arr.shape[:3]
    columns = columns or math.ceil(math.sqrt(n))
    rows = math.ceil(n / columns)
    canvas = np.zeros((rows * h, columns * w) + arr.shape[3:], dtype=arr.dtype)
    for i in range(n):
        r, c = divmod(i, columns)
        canvas[r * h:(r + 1) * h, c * w:(c + 1) * w] = arr[i]
    return canvas
