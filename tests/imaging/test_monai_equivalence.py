"""The fast preprocessing gives the same arrays as the straightforward MONAI chain.

Volumes are made here: int16 HU with a random texture, stored in LPS-like (flipped) and permuted
axis orders at anisotropic spacing, so orientation, spacing, window, crop and resize all matter.
"""

from __future__ import annotations

import numpy as np
import pytest

from ct_spatial_bench.imaging.decode import decode_volume
from ct_spatial_bench.imaging.specs import InputSpec, apply_spec

pytest.importorskip("monai")
pytestmark = pytest.mark.filterwarnings("ignore::FutureWarning")


def _volume(path, permuted: bool):
    import nibabel as nib

    rng = np.random.default_rng(7)
    data = rng.integers(-1024, 1500, size=(23, 19, 15)).astype(np.int16)
    data[:3] = -1024  # air around a body, so a foreground crop has something to cut
    data[:, :2] = -1024
    affine = np.diag([-0.7, -0.8, 1.6, 1.0])  # stored L-P-S
    affine[:3, 3] = [8.0, 7.0, -12.0]
    if permuted:  # voxel axes stored as (z, x, y)
        data = np.ascontiguousarray(np.transpose(data, (2, 0, 1)))
        affine = affine[:, [2, 0, 1, 3]]
    image = nib.Nifti1Image(data, affine)
    image.set_qform(affine, code=1)
    image.set_sform(affine, code=1)
    nib.save(image, str(path))
    return path


def _monai_chain(path, spec: InputSpec) -> np.ndarray:
    """What a user would write with MONAI, transform by transform, in float32 throughout."""
    from monai import transforms as mt

    steps = [mt.LoadImage(image_only=True, ensure_channel_first=True),
             mt.Orientation(axcodes=spec.orientation)]
    if spec.spacing is not None:
        steps.append(mt.Spacing(pixdim=spec.spacing, mode="bilinear"))
    if spec.window is not None:
        steps.append(mt.ScaleIntensityRange(*spec.window, *spec.window_range, clip=True))
    if spec.normalise == "minmax":
        steps.append(mt.ScaleIntensity(minv=0.0, maxv=1.0))
    if spec.normalise == "percentile":  # as M3D's m3d_refseg_data_prepare.py writes it
        steps.append(mt.ScaleIntensityRangePercentiles(*spec.percentiles, b_min=0.0, b_max=1.0,
                                                       clip=True))
    if spec.crop_foreground:
        steps.append(mt.CropForeground(select_fn=lambda x: x > 0, allow_smaller=True))
    if spec.shape is not None:
        xyz = [spec.shape[spec.axis_order.index(a)] for a in "xyz"]
        if spec.fit == "resize":
            steps.append(mt.Resize(spatial_size=xyz, mode="trilinear"))
        else:
            steps += [mt.SpatialPad(spatial_size=xyz, value=spec.pad_value),
                      mt.CenterSpatialCrop(roi_size=xyz)]
    out = mt.Compose(steps)(str(path))[0].numpy()
    return np.transpose(out, spec.permutation())


SPECS = [
    InputSpec("m3d_like", orientation="LPS", normalise="minmax", crop_foreground=True,
              shape=(6, 12, 10), axis_order="zyx", output="npy"),
    InputSpec("m3d_raw_ct_like", orientation="LPS", normalise="percentile",
              percentiles=(0.5, 99.5), crop_foreground=True, shape=(6, 12, 10), axis_order="zyx",
              output="npy"),
    InputSpec("merlin_like", orientation="RAS", spacing=(1.5, 1.5, 3.0), window=(-1000, 1000),
              shape=(12, 8, 6), fit="pad_crop", pad_value=0.0, output="npy"),
    InputSpec("window_resize", orientation="RAS", window=(-160, 240), window_range=(-1.0, 1.0),
              shape=(30, 9, 7), output="npy"),
    InputSpec("spacing_only", orientation="LPS", spacing=(1.1, 0.55, 2.2), window=(-1000, 1000),
              output="npy"),
]


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["isal", "nibabel"])
@pytest.mark.parametrize("permuted", [False, True], ids=["lps", "permuted"])
@pytest.mark.parametrize("spec", SPECS, ids=[s.name for s in SPECS])
def test_same_arrays_as_the_monai_chain(tmp_path, spec, permuted, backend):
    import nibabel as nib

    if backend == "isal":
        pytest.importorskip("isal", reason="the isal fast path needs the isal package")
    path = _volume(tmp_path / "ct.nii.gz", permuted)
    decoded = decode_volume(nib.load(str(path)), backend=backend)
    assert np.asanyarray(decoded.dataobj).dtype == np.int16  # decoded without a float cast
    ours = apply_spec(decoded, spec)
    theirs = _monai_chain(path, spec)
    assert ours.shape == theirs.shape
    np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-5)


def test_spacing_grid_of_ct_clip_keeps_the_extent(tmp_path):
    import nibabel as nib

    path = _volume(tmp_path / "ct.nii.gz", permuted=False)
    spec = InputSpec("ct_chat_like", orientation="LPS", spacing=(0.35, 0.4, 0.8),
                     spacing_grid="resize", output="nifti")
    out = apply_spec(decode_volume(nib.load(str(path))), spec)
    assert out.shape == tuple(int(n * c / t + 1e-6) for n, c, t in  # CT-CLIP truncates
                              zip((23, 19, 15), (0.7, 0.8, 1.6), (0.35, 0.4, 0.8)))
    corner = out.affine @ [-0.5, -0.5, -0.5, 1]
    source = nib.load(str(path)).affine @ [-0.5, -0.5, -0.5, 1]
    np.testing.assert_allclose(corner, source)  # the box edge stays where it was
