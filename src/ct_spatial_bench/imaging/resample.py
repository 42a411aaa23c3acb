"""Resampling to a spacing or a shape, with the affine kept consistent."""

from __future__ import annotations

from typing import Any


def spacing_plans(shape: tuple[int, ...], affine: Any, spacing: tuple[float, float, float],
                  order: int = 1, grid: str = "monai") -> tuple[list, Any]:
    """The per-axis plans and new affine of resampling to ``spacing`` mm.

    ``grid="monai"``: MONAI's ``Spacing`` (Merlin): the first voxel keeps its world position and
    the grid has ``round((n-1) * in/out + 1)`` voxels of exactly ``spacing``. ``grid="resize"``:
    CT-CLIP's ``resize_array`` (CT-CHAT): torch ``interpolate`` to ``int(n * in/out)`` voxels, the
    volume's extent kept, so the spacing is only close to ``spacing``.
    """
    import numpy as np

    from ct_spatial_bench.imaging.interpolate import resize_plan, spacing_plan

    current = np.sqrt((np.asarray(affine, dtype=float)[:3, :3] ** 2).sum(axis=0))
    target = np.asarray(spacing, dtype=float)
    if grid == "monai":
        plans = [spacing_plan(int(n), float(c), float(t), order)
                 for n, c, t in zip(shape[:3], current, target)]
        scale, offset = target / current, np.zeros(3)
    elif grid == "resize":
        sizes = [max(1, int(n * c / t + 1e-6)) for n, c, t in zip(shape[:3], current, target)]
        plans = [resize_plan(int(n), m, order) for n, m in zip(shape[:3], sizes)]
        scale = np.array(shape[:3], dtype=float) / np.array(sizes, dtype=float)
        offset = (scale - 1) / 2  # half-pixel centres
    else:
        raise ValueError(f"spacing grid must be 'monai' or 'resize', got {grid!r}")
    return plans, np.asarray(affine, dtype=float) @ scaling_affine(scale, offset)


def scaling_affine(scale: Any, offset: Any) -> Any:
    """The voxel-to-voxel affine ``source = scale * output + offset`` per axis."""
    import numpy as np

    out = np.eye(4)
    out[:3, :3] = np.diag(np.asarray(scale, dtype=float))
    out[:3, 3] = np.asarray(offset, dtype=float)
    return out


def center_pad_crop(array: Any, shape: tuple[int, ...], pad_value: float = 0.0) -> Any:
    """Crop or pad every axis of ``array`` about its centre to ``shape`` (no interpolation).

    The crop starts at ``(n - target) // 2`` and the padding puts ``(target - n) // 2`` before,
    the rest after: what MONAI's CenterSpatialCrop/SpatialPad (Merlin) and CT-CHAT's encoder do.
    """
    import numpy as np

    arr = np.asarray(array)
    crops = []
    pads = []
    for size, target in zip(arr.shape, shape):
        start = max((size - target) // 2, 0)
        kept = min(size, target)
        crops.append(slice(start, start + kept))
        before = (target - kept) // 2
        pads.append((before, target - kept - before))
    pads.extend([(0, 0)] * (arr.ndim - len(shape)))  # trailing channel axes stay as they are
    return np.pad(arr[tuple(crops)], pads, mode="constant", constant_values=pad_value)


def crop_foreground(array: Any, spatial_axes: int = 3) -> Any:
    """Crop to the bounding box of voxels above the minimum (MONAI's CropForeground on a
    min-max scaled volume, as M3D and Med3DVLM prepared their training data)."""
    import numpy as np

    arr = np.asarray(array)
    mask = arr > arr.min()
    if arr.ndim > spatial_axes:
        mask = mask.reshape(mask.shape[:spatial_axes] + (-1,)).any(axis=-1)
    # Two passes over the volume: the last axis collapsed (a plane), then the other axes.
    plane = mask.any(axis=spatial_axes - 1)
    if not plane.any():
        return arr
    hits = [np.flatnonzero(plane.any(axis=tuple(a for a in range(spatial_axes - 1) if a != axis)))
            for axis in range(spatial_axes - 1)]
    hits.append(np.flatnonzero(mask.any(axis=tuple(range(spatial_axes - 1)))))
    return arr[tuple(slice(int(h[0]), int(h[-1]) + 1) for h in hits)]
