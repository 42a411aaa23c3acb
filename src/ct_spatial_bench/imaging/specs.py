"""Preprocessing specs as data, and the pure function that applies one to a volume.

A spec says what a model's authors feed it: orientation, spacing, HU window, output shape, value
range and axis order. Each model adapter names the spec it reads; preprocessing decodes each
volume once and produces every spec that the selected models need.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class InputSpec:
    name: str
    orientation: str = "RAS"
    spacing: tuple[float, float, float] | None = None
    window: tuple[float, float] | None = None  # HU low, high; None keeps HU
    shape: tuple[int, ...] | None = None  # after orientation, in the array's axis order
    axis_order: str = "xyz"  # "zyx" puts slices first (depth, height, width)
    output: str = "nifti"  # nifti keeps the affine; npy is a bare array
    notes: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_params(cls, name: str, params: dict[str, Any]) -> InputSpec:
        known = {k: v for k, v in params.items() if k in cls.__dataclass_fields__}
        for key in ("spacing", "window", "shape"):
            if known.get(key) is not None:
                known[key] = tuple(known[key])
        unknown = sorted(set(params) - set(cls.__dataclass_fields__))
        if unknown:
            raise ValueError(f"input spec {name!r}: unknown field(s) {unknown}")
        known.pop("name", None)
        return cls(name=name, **known)


def apply_spec(image: Any, spec: InputSpec) -> Any:
    """Turn a decoded volume into what ``spec`` asks for (a NIfTI image or an ndarray)."""
    import nibabel as nib
    import numpy as np

    from ct_spatial_bench.imaging.intensity import hounsfield, window
    from ct_spatial_bench.imaging.orientation import reorient
    from ct_spatial_bench.imaging.resample import resample_to_spacing, resize_to_shape

    image = reorient(image, spec.orientation)
    hu = hounsfield(image)
    image = nib.Nifti1Image(hu, image.affine)
    if spec.spacing is not None:
        image = resample_to_spacing(image, spec.spacing)
    data = np.asanyarray(image.dataobj)
    if spec.window is not None:
        data = window(data, *spec.window)
    if spec.shape is not None:
        data = resize_to_shape(data, spec.shape if spec.axis_order == "xyz" else spec.shape[::-1])
    if spec.axis_order == "zyx":
        if spec.output != "npy":
            raise ValueError(f"input spec {spec.name!r}: axis_order 'zyx' needs output 'npy'")
        data = np.ascontiguousarray(np.transpose(data, (2, 1, 0)))
    elif spec.axis_order != "xyz":
        raise ValueError(f"input spec {spec.name!r}: axis_order must be 'xyz' or 'zyx'")
    if spec.output == "npy":
        return data
    affine = image.affine
    if spec.shape is not None:
        scale = np.array(image.shape[:3]) / np.array(data.shape[:3])
        affine = affine.copy()
        affine[:3, :3] = affine[:3, :3] * scale
    out = nib.Nifti1Image(data, affine)
    out.set_qform(affine, code=1)
    out.set_sform(affine, code=1)
    return out
