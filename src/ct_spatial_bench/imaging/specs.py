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
    spacing_grid: str = "monai"  # "monai": MONAI Spacing; "resize": CT-CLIP's resize to int(n*in/out)
    window: tuple[float, float] | None = None  # HU low, high; None keeps HU
    window_range: tuple[float, float] = (0.0, 1.0)  # what the window maps to (CT-CHAT: -1..1)
    # "minmax": the volume's own min..max to 0..1; "percentile": its percentiles lo..hi to 0..1,
    # clipped. Declared in the params as intensity: minmax | window(lo, hi) | percentile(lo, hi)
    normalise: str | None = None
    percentiles: tuple[float, float] | None = None
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
        from ct_spatial_bench.imaging.intensity import parse_intensity

        params = dict(params)
        if params.get("intensity") is not None:
            declared = parse_intensity(params["intensity"], name)
            clash = sorted(k for k in declared if params.get(k) is not None)
            if clash:
                raise ValueError(f"input spec {name!r}: intensity and {clash} both set")
            params.update(declared)
        params.pop("intensity", None)
        known = {k: v for k, v in params.items() if k in cls.__dataclass_fields__}
        for key in ("spacing", "window", "window_range", "shape", "percentiles"):
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
    """Turn a decoded volume into what ``spec`` asks for (a NIfTI image or an ndarray).

    The voxels stay in their stored integer type through reorienting, slice sampling and
    cropping; resampling reads only the voxels the output needs (a pad/crop that follows is
    folded into the resampling plan) and an HU window is applied where it costs least: clipped
    before a resize blends values, mapped to its range after. The result equals the plain MONAI
    chain (Orientation, Spacing, ScaleIntensityRange, CropForeground, Resize, pad/crop).
    """
    import nibabel as nib
    import numpy as np

    from ct_spatial_bench.imaging.intensity import IntensityMap, hounsfield
    from ct_spatial_bench.imaging.interpolate import interpolate, resize_plan
    from ct_spatial_bench.imaging.orientation import reorient
    from ct_spatial_bench.imaging.resample import center_pad_crop, crop_foreground, scaling_affine
    from ct_spatial_bench.imaging.slices import rgb_of_windows, sample_slice_indices

    permutation = spec.permutation()
    reshapes_freely = spec.slices or spec.crop_foreground or spec.fit != "resize"
    if spec.output != "npy" and (permutation != (0, 1, 2) or reshapes_freely):
        raise ValueError(f"input spec {spec.name!r}: axis_order {spec.axis_order!r}, slices, "
                         "crop_foreground and pad_crop need output 'npy'")
    if spec.normalise not in (None, "minmax", "percentile"):
        raise ValueError(f"input spec {spec.name!r}: normalise must be 'minmax', 'percentile' "
                         "or null")
    if (spec.normalise == "percentile") != (spec.percentiles is not None):
        raise ValueError(f"input spec {spec.name!r}: percentiles go with normalise "
                         "'percentile' (intensity: percentile(lo, hi))")
    if spec.fit not in ("resize", "pad_crop"):
        raise ValueError(f"input spec {spec.name!r}: fit must be 'resize' or 'pad_crop'")
    image = reorient(image, spec.orientation)
    data, affine = hounsfield(image), image.affine
    if spec.spacing is not None:
        data, affine = _resample_to_spacing(data, affine, spec, permutation)
    if spec.slices:
        data = data[:, :, sample_slice_indices(data.shape[2], spec.slices, spec.slice_sampling)]
    if spec.rgb_windows is not None:
        data = rgb_of_windows(data, spec.rgb_windows)
    intensity = None if spec.rgb_windows is not None else IntensityMap.of_spec(data, spec)
    if spec.crop_foreground:
        bounds = None if intensity is None else intensity.clip  # the window moves the minimum
        data = crop_foreground(data if bounds is None else np.clip(data, *bounds))
    if spec.shape is not None:
        target = _target_xyz(spec, permutation, data.shape[:3])
        resized_from = data.shape[:3]
        if spec.fit == "resize":
            plans = [resize_plan(n, t, spec.resize_order) for n, t in zip(data.shape, target)]
            clip = None if intensity is None else intensity.clip
            resized = interpolate(data, plans, clip=clip)
            if data.dtype == np.uint8:
                resized = np.clip(np.round(resized), 0, 255).astype(np.uint8)
            data = resized if intensity is None else intensity.scale(resized)
        else:
            data = center_pad_crop(data, tuple(min(n, t) for n, t in zip(data.shape, target)))
            data = data if intensity is None else intensity.apply(data)
            data = center_pad_crop(data, target, spec.pad_value)
    elif intensity is not None:
        data = intensity.apply(data)
    if spec.output == "npy":
        order = permutation + tuple(range(3, data.ndim))
        return np.ascontiguousarray(np.transpose(data, order))
    if spec.shape is not None:  # torch's half-pixel resize: output voxel i is source
        scale = np.array(resized_from) / np.array(data.shape[:3])  # (i + 0.5) * scale - 0.5
        affine = affine @ scaling_affine(scale, (scale - 1) / 2)
    out = nib.Nifti1Image(data, affine)  # written in file order when saved: no copy here
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


def _resample_to_spacing(data: Any, affine: Any, spec: InputSpec,
                         permutation: tuple[int, int, int]) -> tuple[Any, Any]:
    """Resample to ``spec.spacing`` as MONAI's Spacing does; with a pad/crop to follow, only the
    voxels that the centre crop keeps are computed."""
    from ct_spatial_bench.imaging.interpolate import interpolate
    from ct_spatial_bench.imaging.resample import scaling_affine, spacing_plans

    plans, affine = spacing_plans(data.shape[:3], affine, spec.spacing, grid=spec.spacing_grid)
    if spec.shape is not None and spec.fit == "pad_crop" and not (
            spec.slices or spec.crop_foreground):
        target = _target_xyz(spec, permutation, tuple(p.size for p in plans))
        starts = [max((p.size - t) // 2, 0) for p, t in zip(plans, target)]
        plans = [p.center_crop(t) for p, t in zip(plans, target)]
        affine = affine @ scaling_affine((1.0, 1.0, 1.0), starts)
    return interpolate(data, plans), affine
