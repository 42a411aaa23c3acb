"""Resampling to a spacing or a shape, with the affine kept consistent."""

from __future__ import annotations

from typing import Any


def resample_to_spacing(image: Any, spacing: tuple[float, float, float], order: int = 1) -> Any:
    """Resample a (RAS-ordered) image to ``spacing`` mm; the new affine keeps the same world box.

    Works in the stored dtype until the interpolation (scipy casts internally per output voxel),
    and returns the stored dtype so HU stay integers.
    """
    import nibabel as nib
    import numpy as np
    from scipy import ndimage

    from ct_spatial_bench.imaging.orientation import voxel_spacing

    current = np.array(voxel_spacing(image))
    target = np.asarray(spacing, dtype=float)
    if np.allclose(current, target):
        return image
    data = np.asanyarray(image.dataobj)
    zoom = current / target
    out_shape = np.maximum(1, np.round(np.array(data.shape[:3]) * zoom)).astype(int)
    resampled = ndimage.zoom(data, out_shape / np.array(data.shape[:3]), order=order, mode="nearest")
    if np.issubdtype(data.dtype, np.integer):
        resampled = np.rint(resampled).astype(data.dtype)
    affine = image.affine.copy()
    affine[:3, :3] = image.affine[:3, :3] / current * target
    out = nib.Nifti1Image(resampled, affine)
    out.set_qform(affine, code=1)
    out.set_sform(affine, code=1)
    return out


def resize_to_shape(array: Any, shape: tuple[int, ...], order: int = 1) -> Any:
    """Resize ``array`` to exactly ``shape`` by interpolation (float32 out)."""
    import numpy as np
    from scipy import ndimage

    arr = np.asarray(array, dtype=np.float32)
    if arr.shape == tuple(shape):
        return arr
    factors = np.array(shape, dtype=float) / np.array(arr.shape, dtype=float)
    out = ndimage.zoom(arr, factors, order=order, mode="nearest")
    if out.shape != tuple(shape):  # zoom can round a side by one voxel
        out = _crop_or_pad(out, shape)
    return out


def _crop_or_pad(array: Any, shape: tuple[int, ...]) -> Any:
    import numpy as np

    out = np.zeros(shape, dtype=array.dtype)
    common = tuple(slice(0, min(a, b)) for a, b in zip(array.shape, shape))
    out[common] = array[common]
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
    if not mask.any():
        return arr
    box = []
    for axis in range(spatial_axes):
        other = tuple(a for a in range(spatial_axes) if a != axis)
        hits = np.flatnonzero(mask.any(axis=other))
        box.append(slice(int(hits[0]), int(hits[-1]) + 1))
    return arr[tuple(box)]
