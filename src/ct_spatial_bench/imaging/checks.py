"""What a volume must be before anything is made from it: three dimensions and an affine that
maps voxels to millimetres one to one.

Checked where a volume is read, so a bad one becomes a data error naming the volume and the
cause (its items are then errors, never answers) instead of an ``IndexError`` or a ``TypeError``
about ``None`` several steps later, or, for a 4D series, inputs made from its first frames.
"""

from __future__ import annotations

from typing import Any

# Below this |det| the affine maps a voxel to (almost) no volume: it cannot be inverted, so
# no direction (left, anterior, superior) can be read from it.
MIN_VOXEL_VOLUME_MM3 = 1e-9


class VolumeError(ValueError):
    """A volume whose shape or affine no input can be made from."""


def check_volume_geometry(shape: Any, affine: Any) -> None:
    """Raise ``VolumeError`` naming the cause unless ``shape`` has three axes of at least two
    voxels and ``affine`` is a finite, invertible 4x4 matrix."""
    import numpy as np

    shape = tuple(int(n) for n in shape)
    if len(shape) != 3:
        kind = f"{len(shape)}D image" if len(shape) != 4 else "4D image (a series)"
        raise VolumeError(f"{kind} of shape {'x'.join(map(str, shape))}: a CT volume has "
                          "3 dimensions")
    if min(shape) < 2:
        raise VolumeError(f"shape {'x'.join(map(str, shape))} is a slice, not a volume")
    matrix = np.asarray(affine, dtype=np.float64) if affine is not None else None
    if matrix is None or matrix.shape != (4, 4):
        raise VolumeError("no voxel-to-world affine")
    if not np.isfinite(matrix).all():
        raise VolumeError("its affine holds non-finite values")
    determinant = float(np.linalg.det(matrix[:3, :3]))
    if abs(determinant) < MIN_VOXEL_VOLUME_MM3:
        raise VolumeError(f"its affine is singular (determinant {determinant:g}): no direction "
                          "can be read from it")
