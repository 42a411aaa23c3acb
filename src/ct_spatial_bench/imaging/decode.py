"""Decode a NIfTI volume once, at the speed of its gzip decompression, into Hounsfield units.

Decompression is the floor of preprocessing a ``.nii.gz`` (a CT-RATE volume is ~80 MB compressed,
~150 MB of int16). With the ``isal`` package installed the whole file is inflated by ISA-L's igzip
(about twice zlib's speed) and the voxels are viewed in place, with no copy; otherwise nibabel
reads it (through ``indexed_gzip`` where installed, else Python's zlib). Either way the result
is an in-memory image whose array every input spec reuses, kept in the stored integer type when
the header's scaling allows.
"""

from __future__ import annotations

import os
from typing import Any


def gzip_backend() -> str:
    """The fastest gzip reader installed: ``isal``, ``indexed_gzip`` (through nibabel) or ``zlib``."""
    import importlib.util

    for name in ("isal", "indexed_gzip"):
        if importlib.util.find_spec(name) is not None:
            return name
    return "zlib"


def decompress_file(path: str | os.PathLike, backend: str | None = None) -> bytes:
    """The inflated bytes of a gzip file (``backend``: ``isal`` or ``zlib``; default the fastest)."""
    with open(path, "rb") as handle:
        compressed = handle.read()
    if (backend or gzip_backend()) == "isal":
        from isal import igzip

        return igzip.decompress(compressed)
    import gzip

    return gzip.decompress(compressed)


def read_header(path: str | os.PathLike) -> Any:
    """The NIfTI header of a ``.nii`` or ``.nii.gz`` file, reading only its first bytes."""
    import gzip

    import nibabel as nib

    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rb") as handle:
        return nib.Nifti1Header.from_fileobj(handle)


def decode_file(path: str | os.PathLike, backend: str | None = None) -> Any:
    """The volume at ``path`` decoded into memory, voxels in HU (see ``decode_volume``)."""
    import nibabel as nib

    backend = backend or gzip_backend()
    if backend != "isal" or not str(path).endswith(".gz"):
        return decode_volume(nib.load(str(path)), backend)
    header, data = _read_inflated(decompress_file(path, "isal"), str(path))
    return _in_memory(data, header.get_best_affine())


def decode_volume(image: Any, backend: str | None = None) -> Any:
    """``image`` (a lazy ``nibabel`` image) fully decoded into memory, voxels in HU.

    The returned ``Nifti1Image`` holds a plain array, so reorienting, windowing or resampling it
    for several specs never decompresses the file again.
    """
    from ct_spatial_bench.imaging.intensity import hounsfield

    backend = backend or gzip_backend()
    filename = image.get_filename() if hasattr(image, "get_filename") else None
    if backend == "isal" and filename and str(filename).endswith(".gz"):
        data = _read_inflated(decompress_file(filename, "isal"), filename)[1]
    else:
        data = hounsfield(image)
    return _in_memory(data, image.affine)


def _in_memory(data: Any, affine: Any) -> Any:
    import nibabel as nib

    image = nib.Nifti1Image(data, affine)
    image.set_qform(affine, code=1)
    image.set_sform(affine, code=1)
    return image


def _read_inflated(raw: bytes, filename: str) -> tuple[Any, Any]:
    """The header and the voxels of an inflated NIfTI file, the voxels an array viewing ``raw``
    (no copy) and scaled to HU only where the header asks for it."""
    import io

    import nibabel as nib
    import numpy as np

    header = nib.Nifti1Header.from_fileobj(io.BytesIO(raw))
    dtype = header.get_data_dtype()
    shape = header.get_data_shape()
    offset = int(header.get_data_offset())
    count = int(np.prod(shape))
    if offset + count * dtype.itemsize > len(raw):
        raise ValueError(f"{filename}: truncated NIfTI ({len(raw)} bytes inflated, "
                         f"{offset + count * dtype.itemsize} needed)")
    data = np.frombuffer(raw, dtype=dtype, count=count, offset=offset).reshape(shape, order="F")
    if not dtype.isnative:
        data = data.astype(dtype.newbyteorder("="))
    return header, _apply_scaling(data, *header.get_slope_inter())


def _apply_scaling(data: Any, slope: float | None, inter: float | None) -> Any:
    """``data * slope + inter``, in integers when both are whole numbers and the range fits."""
    import numpy as np

    slope = 1.0 if slope is None or np.isnan(slope) else float(slope)
    inter = 0.0 if inter is None or np.isnan(inter) else float(inter)
    if slope == 1.0 and inter == 0.0:
        return data
    if np.issubdtype(data.dtype, np.integer) and slope.is_integer() and inter.is_integer():
        lo, hi = int(data.min()) * slope + inter, int(data.max()) * slope + inter
        lo, hi = min(lo, hi), max(lo, hi)
        for candidate in (np.int16, np.int32):
            info = np.iinfo(candidate)
            if info.min <= lo and hi <= info.max:
                out = data.astype(candidate)
                if slope != 1.0:
                    out *= candidate(slope)
                out += candidate(inter)
                return out
    return data.astype(np.float32) * np.float32(slope) + np.float32(inter)
