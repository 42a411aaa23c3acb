"""Orientation from the NIfTI header: every model sees patient space, whatever the storage order."""

from __future__ import annotations

from typing import Any


def axis_codes(image: Any) -> str:
    """The storage orientation of ``image`` as three letters, e.g. ``"RAS"`` or ``"LPS"``."""
    import nibabel as nib

    return "".join(nib.aff2axcodes(image.affine))


def reorient(image: Any, target: str = "RAS") -> Any:
    """Return ``image`` with its voxel axes reordered and flipped to ``target`` (e.g. ``"RAS"``).

    Only the voxel order and the affine change; world coordinates of every voxel stay the same, so
    a finding on the patient's right is still on the right. The array keeps its on-disk dtype
    (no float cast of the whole volume).
    """
    import nibabel as nib
    import numpy as np
    from nibabel.orientations import axcodes2ornt, inv_ornt_aff, io_orientation, ornt_transform

    current = io_orientation(image.affine)
    wanted = axcodes2ornt(tuple(target))
    transform = ornt_transform(current, wanted)
    if np.array_equal(transform, [[0, 1], [1, 1], [2, 1]]):
        return image
    data = np.asanyarray(image.dataobj)
    reoriented = nib.orientations.apply_orientation(data, transform)
    affine = image.affine @ inv_ornt_aff(transform, image.shape[:3])
    header = image.header.copy()
    header.set_data_dtype(reoriented.dtype)
    out = nib.Nifti1Image(reoriented, affine, header)  # a view: flips and transposes copy nothing
    out.set_qform(affine, code=1)
    out.set_sform(affine, code=1)
    return out


def voxel_spacing(image: Any) -> tuple[float, float, float]:
    """Spacing in mm along each voxel axis, read from the affine (not the possibly stale zooms)."""
    import numpy as np

    return tuple(float(v) for v in np.sqrt((image.affine[:3, :3] ** 2).sum(axis=0)))
