"""Image perturbations for robustness probes: noise, blur, intensity shift, coarser slices.

Each is a pure function of a NIfTI image in Hounsfield units and returns a new image with the same
stored orientation and dtype. Strengths are physical: noise and shift in HU, blur in mm (Gaussian
sigma), slice spacing as a factor (keep every k-th slice along the voxel axis nearest to the
patient's head-foot axis; the affine's spacing grows by k, so a model's spec resamples as it would
a thick-slice scan).
"""

from __future__ import annotations

from typing import Any

from ct_spatial_bench.imaging.mirror import image_like as _image_like

PERTURBATIONS = ("noise", "blur", "shift", "slice_spacing")


def perturb(image: Any, kind: str, strength: float, seed: int = 0) -> Any:
    """``image`` perturbed by ``kind`` at ``strength`` (see the module docstring for units)."""
    import numpy as np

    if kind not in PERTURBATIONS:
        raise ValueError(f"unknown perturbation {kind!r}; known: {PERTURBATIONS}")
    data = np.asanyarray(image.dataobj)
    affine = np.asarray(image.affine, dtype=float)
    if kind == "slice_spacing":
        return _coarser_slices(image, data, affine, int(strength))
    values = data.astype(np.float32)
    if kind == "noise":
        values = values + np.random.default_rng(seed).normal(0.0, strength, values.shape)
    elif kind == "shift":
        values = values + float(strength)
    else:
        from scipy import ndimage as ndi

        from ct_spatial_bench.imaging.orientation import voxel_spacing

        spacing = np.asarray(voxel_spacing(image))
        values = ndi.gaussian_filter(values, sigma=float(strength) / spacing)
    return _image_like(image, _cast(values, data.dtype), affine)


def _coarser_slices(image: Any, data: Any, affine: Any, factor: int) -> Any:
    import numpy as np

    if factor < 1:
        raise ValueError(f"slice_spacing factor must be a positive integer, got {factor}")
    axis = int(np.argmax(np.abs(affine[2, :3])))  # the voxel axis along world z
    index = [slice(None)] * data.ndim
    index[axis] = slice(0, None, factor)
    coarse = affine.copy()
    coarse[:3, axis] *= factor
    return _image_like(image, np.ascontiguousarray(data[tuple(index)]), coarse)


def _cast(values: Any, dtype: Any) -> Any:
    import numpy as np

    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        return np.clip(np.round(values), info.min, info.max).astype(dtype)
    return values.astype(dtype)
