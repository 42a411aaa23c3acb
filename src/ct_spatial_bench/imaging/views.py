"""Input representations of a CT for 2D (slice-reading) models: the representation ablation.

Every view is a stack of uint8 RGB images ``(n, rows, columns, 3)`` in radiological display, as
the slice specs produce them: axial slices top to bottom with the patient's right on the image's
left and anterior up; coronal slices anterior to posterior with the head up and the patient's
right on the left; sagittal slices right to left with the head up and anterior on the left.
``multiview`` holds ``n`` slices of each plane (padded to one square size), ``montage`` one image
tiling ``n`` axial slices. ``overlay`` tints a threshold segmentation onto the slices (lung air
green, soft tissue and fluid 0..100 HU inside the lungs' extent red), the cheap stand-in for an
expert model's segmentation.
"""

from __future__ import annotations

from typing import Any

VIEWS = ("axial", "coronal", "sagittal", "multiview", "montage")
DEFAULT_WINDOWS = ((-1000.0, 1000.0), (-1000.0, 1000.0), (-1000.0, 1000.0))


def render_view(image: Any, view: str = "axial", slices: int = 16,
                rgb_windows: Any = DEFAULT_WINDOWS, overlay: bool = False) -> Any:
    """The representation ``view`` of a NIfTI volume (any storage orientation), ``slices`` per
    plane, each slice an RGB of three HU windows."""
    import numpy as np

    from ct_spatial_bench.imaging.intensity import hounsfield
    from ct_spatial_bench.imaging.orientation import reorient
    from ct_spatial_bench.imaging.slices import montage, rgb_of_windows, sample_slice_indices

    if view not in VIEWS:
        raise ValueError(f"unknown view {view!r}; known: {VIEWS}")
    # LPI voxel axes: x to the patient's left, y posterior, z inferior (display order).
    hu = hounsfield(reorient(image, "LPI"))
    windows = tuple(tuple(w) for w in rgb_windows)

    def plane(axis: int) -> Any:
        picks = sample_slice_indices(hu.shape[axis], slices)
        stack = np.moveaxis(np.take(hu, picks, axis=axis), axis, 0)
        # (n, a, b) -> rows b, columns a: axial (y, x), coronal (z, x), sagittal (z, y)
        stack = np.transpose(stack, (0, 2, 1))
        rgb = rgb_of_windows(stack, windows)
        return _tint(rgb, stack) if overlay else rgb

    if view == "axial":
        return plane(2)
    if view == "coronal":
        return plane(1)
    if view == "sagittal":
        return plane(0)
    if view == "montage":
        return montage(plane(2))[None]
    stacks = [plane(2), plane(1), plane(0)]
    side = max(max(s.shape[1], s.shape[2]) for s in stacks)
    return np.concatenate([_pad_square(s, side) for s in stacks])


def _tint(rgb: Any, hu: Any) -> Any:
    import numpy as np

    out = rgb.astype(np.float32)
    lung = (hu > -950) & (hu < -400)
    dense = (hu >= 0) & (hu <= 100)
    out[lung] = 0.6 * out[lung] + 0.4 * np.array([0, 255, 0])
    out[dense] = 0.6 * out[dense] + 0.4 * np.array([255, 0, 0])
    return np.clip(np.round(out), 0, 255).astype(np.uint8)


def _pad_square(stack: Any, side: int) -> Any:
    import numpy as np

    n, rows, cols = stack.shape[:3]
    out = np.zeros((n, side, side, 3), dtype=stack.dtype)
    top, left = (side - rows) // 2, (side - cols) // 2
    out[:, top:top + rows, left:left + cols] = stack
    return out
