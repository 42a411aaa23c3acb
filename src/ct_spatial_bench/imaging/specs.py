"""Preprocessing specs as data, and the pure function that applies one to a volume.

A spec says what a model's authors feed it: orientation, spacing, HU window, value range, output
shape (resized, or centre-padded and cropped), slice sampling, multi-window RGB and axis order. Each model adapter names the spec it reads; preprocessing decodes each
volume once and produces every spec that the selected models need.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class InputSpec:
    name: str
    orientation: str = "RAS"  # nibabel axis codes the voxel axes are turned to, e.g. "LPS"
    spacing: tuple[float, float, float] | None = None
    window: tuple[float, float] | None = None  # HU low, high; None keeps HU
    window_range: tuple[float, float] = (0.0, 1.0)  # what the window maps to (CT-CHAT: -1..1)
    normalise: str | None = None  # "minmax": the volume's own min..max to 0..1 (M3D, RadFM)
    crop_foreground: bool = False  # crop to voxels above the minimum before fitting the shape
    shape: tuple[int | None, ...] | None = None  # in the output axis order; None keeps that side
    fit: str = "resize"  # "resize" interpolates; "pad_crop" centre-pads/crops (Merlin, CT-CHAT)
    pad_value: float = 0.0  # what "pad_crop" pads with, in output values
    resize_order: int = 1  # spline order of "resize": 1 linear, 0 nearest
    depth_multiple: int | None = None  # z side None in shape: nearest multiple (RadFM: 4)
    max_depth: int | None = None  # ... and at most this many slices (RadFM: 64)
    slices: int | None = None  # sample this many axial slices (2D models)
    slice_sampling: str = "linspace"  # see imaging.slices.sample_slice_indices
    rgb_windows: tuple[tuple[float, float], ...] | None = None  # 3 HU windows -> uint8 RGB last
    axis_order: str = "xyz"  # any order of x, y, z: "zyx" puts slices first (depth, height, width)
    output: str = "nifti"  # nifti keeps the affine; npy is a bare array
    notes: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_params(cls, name: str, params: dict[str, Any]) -> InputSpec:
        known = {k: v for k, v in params.items() if k in cls.__dataclass_fields__}
        for key in ("spacing", "window", "window_range", "shape"):
            if known.get(key) is not None:
                known[key] = tuple(known[key])
        if known.get("rgb_windows") is not None:
            known["rgb_windows"] = tuple(tuple(w) for w in known["rgb_windows"])
        unknown = sorted(set(params) - set(cls.__dataclass_fields__))
        if unknown:
            raise ValueError(f"input spec {name!r}: unknown field(s) {unknown}")
        known.pop("name", None)
        return cls(name=name, **known)

    def permutation(self) -> tuple[int, int, int]:
        """Output axis i is voxel axis ``permutation()[i]`` of the reoriented (x, y, z) array."""
        if sorted(self.axis_order) != ["x", "y", "z"]:
            raise ValueError(f"input spec {self.name!r}: axis_order must order x, y and z "
                             f"(e.g. 'xyz', 'zyx'), got {self.axis_order!r}")
        return tuple("xyz".index(axis) for axis in self.axis_order)


def apply_spec(image: Any, spec: InputSpec) -> Any:
    """Turn a decoded volume into what ``spec`` asks for (a NIfTI image or an ndarray)."""
    import nibabel as nib
    import numpy as np

    from ct_spatial_bench.imaging.intensity import hounsfield, min_max, window
    from ct_spatial_bench.imaging.orientation import reorient
    from ct_spatial_bench.imaging.resample import (
        center_pad_crop, crop_foreground, resample_to_spacing, resize_to_shape,
    )
    from ct_spatial_bench.imaging.slices import rgb_of_windows, sample_slice_indices

    permutation = spec.permutation()
    reshapes_freely = spec.slices or spec.crop_foreground or spec.fit != "resize"
    if spec.output != "npy" and (permutation != (0, 1, 2) or reshapes_freely):
        raise ValueError(f"input spec {spec.name!r}: axis_order {spec.axis_order!r}, slices, "
                         "crop_foreground and pad_crop need output 'npy'")
    image = reorient(image, spec.orientation)
    hu = hounsfield(image)
    image = nib.Nifti1Image(hu, image.affine)
    if spec.spacing is not None:
        image = resample_to_spacing(image, spec.spacing)
    data = np.asanyarray(image.dataobj)
    if spec.slices:
        data = data[:, :, sample_slice_indices(data.shape[2], spec.slices, spec.slice_sampling)]
    if spec.rgb_windows is not None:
        data = rgb_of_windows(data, spec.rgb_windows)
    elif spec.window is not None:
        data = window(data, *spec.window, out_range=spec.window_range)
    if spec.normalise == "minmax":
        data = min_max(data)
    elif spec.normalise is not None:
        raise ValueError(f"input spec {spec.name!r}: normalise must be 'minmax' or null")
    if spec.crop_foreground:
        data = crop_foreground(data)
    if spec.shape is not None:
        target = _target_xyz(spec, permutation, data.shape[:3]) + tuple(data.shape[3:])
        if spec.fit == "resize":
            resized = resize_to_shape(data, target, order=spec.resize_order)
            data = resized if data.dtype != np.uint8 else np.clip(np.round(resized), 0, 255).astype(
                np.uint8)
        elif spec.fit == "pad_crop":
            data = center_pad_crop(data, target[:3], spec.pad_value)
        else:
            raise ValueError(f"input spec {spec.name!r}: fit must be 'resize' or 'pad_crop'")
    if spec.output == "npy":
        order = permutation + tuple(range(3, data.ndim))
        return np.ascontiguousarray(np.transpose(data, order))
    affine = image.affine
    if spec.shape is not None:
        scale = np.array(image.shape[:3]) / np.array(data.shape[:3])
        affine = affine.copy()
        affine[:3, :3] = affine[:3, :3] * scale
    out = nib.Nifti1Image(data, affine)
    out.set_qform(affine, code=1)
    out.set_sform(affine, code=1)
    return out


def _target_xyz(spec: InputSpec, permutation: tuple[int, int, int],
                current: tuple[int, ...]) -> tuple[int, int, int]:
    """The (x, y, z) size ``spec.shape`` asks for; a None side keeps its size (z: depth rule)."""
    from ct_spatial_bench.imaging.slices import depth_by_rule

    if len(spec.shape) != 3:
        raise ValueError(f"input spec {spec.name!r}: shape needs three sides, got {spec.shape}")
    target = list(current[:3])
    for out_axis, size in enumerate(spec.shape):
        voxel_axis = permutation[out_axis]
        if size is not None:
            target[voxel_axis] = int(size)
        elif voxel_axis == 2:
            target[2] = depth_by_rule(int(current[2]), spec.depth_multiple, spec.max_depth)
    return tuple(target)
