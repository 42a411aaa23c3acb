"""A left-right mirror of a CT in patient space: the probe that asks whether a model looks.

The mirror is taken in world (patient) coordinates through the affine, so it is a true mirror
whatever the storage orientation: world x (patient left-right) becomes ``2 * plane_x - x`` while
y and z are kept. The image keeps its affine, shape, dtype and header, so its stored orientation
(RAS, LPS, PSR, ...) is unchanged and only the content moves.
"""

from __future__ import annotations

from typing import Any


def mirror_matrix(plane_x: float) -> Any:
    """The 4x4 world transform of a mirror about the sagittal plane ``x = plane_x``."""
    import numpy as np

    reflection = np.eye(4)
    reflection[0, 0] = -1.0
    reflection[0, 3] = 2.0 * plane_x
    return reflection


def centre_plane_x(image: Any) -> float:
    """World x of the centre of the field of view: mirroring about it keeps the body in view."""
    import numpy as np

    centre = (np.asarray(image.shape[:3], dtype=float) - 1.0) / 2.0
    return float((image.affine @ np.append(centre, 1.0))[0])


def mirror_left_right(image: Any, plane_x: float | None = None) -> Any:
    """``image`` with its content mirrored left-right about ``x = plane_x`` in patient space.

    ``plane_x`` None: the centre of the field of view. Where the mirror maps voxels onto voxels
    (any axis-aligned storage, mirrored about its centre) the voxels are permuted exactly;
    otherwise (an oblique affine or an off-centre plane) they are resampled, linearly, with air
    outside the field of view.
    """
    import numpy as np

    affine = np.asarray(image.affine, dtype=float)
    plane = centre_plane_x(image) if plane_x is None else float(plane_x)
    # Output voxel v shows what the source held at world M @ A @ v, i.e. source voxel T @ v.
    voxel_map = np.linalg.inv(affine) @ mirror_matrix(plane) @ affine
    data = np.asanyarray(image.dataobj)
    flipped_axis = _single_axis_flip(voxel_map, data.shape[:3])
    if flipped_axis is not None:
        mirrored = np.flip(data, axis=flipped_axis)
    else:
        mirrored = _resample(data, voxel_map)
    return image_like(image, np.ascontiguousarray(mirrored), affine)


def image_like(image: Any, data: Any, affine: Any) -> Any:
    """A NIfTI image of ``data`` with ``image``'s header, ``affine`` as its qform and sform."""
    import nibabel as nib

    header = image.header.copy()
    header.set_data_dtype(data.dtype)
    out = nib.Nifti1Image(data, affine, header)
    out.set_qform(affine, code=1)
    out.set_sform(affine, code=1)
    return out


def _single_axis_flip(voxel_map: Any, shape: tuple[int, ...]) -> int | None:
    """The voxel axis the map reverses when it is exactly ``i -> n - 1 - i`` on one axis."""
    import numpy as np

    for axis in range(3):
        expected = np.eye(4)
        expected[axis, axis] = -1.0
        expected[axis, 3] = shape[axis] - 1
        if np.allclose(voxel_map, expected, atol=1e-4):
            return axis
    return None


def _resample(data: Any, voxel_map: Any) -> Any:
    import numpy as np
    from scipy import ndimage as ndi

    source = data.astype(np.float32)
    fill = float(source.min()) if source.size else 0.0
    out = ndi.affine_transform(source, voxel_map[:3, :3], offset=voxel_map[:3, 3], order=1,
                               mode="constant", cval=fill)
    if np.issubdtype(data.dtype, np.integer):
        info = np.iinfo(data.dtype)
        return np.clip(np.round(out), info.min, info.max).astype(data.dtype)
    return out.astype(data.dtype)
