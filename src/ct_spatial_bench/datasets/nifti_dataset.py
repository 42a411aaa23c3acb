"""NIfTI volumes (``.nii`` / ``.nii.gz``) as ``nibabel`` images, affine and header included."""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from typing import Any

from kedro.io import AbstractDataset

from ct_spatial_bench.datasets._io import refuse_if_read_only
from ct_spatial_bench.fileio import atomic_destination


class NiftiDataset(AbstractDataset[Any, Any]):
    """Loads a ``nibabel.Nifti1Image`` and saves one (or a ``(array, affine)`` pair).

    Loading keeps nibabel's lazy array proxy, so listing or reading headers costs no decompression;
    the voxels are decoded on the first ``get_fdata`` / ``dataobj`` access. Saving goes through a
    temporary file and a rename so a crash leaves no half-written volume; ``.nii.gz`` is
    compressed by ISA-L's igzip where the ``isal`` package is installed.
    """

    def __init__(
        self,
        filepath: str,
        read_only: bool = False,
        load_args: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        self._filepath = PurePosixPath(filepath)
        self._read_only = read_only
        self._load_args = dict(load_args or {})
        self.metadata = metadata

    def _load(self) -> Any:
        import nibabel as nib

        return nib.load(str(self._filepath), **self._load_args)

    def _save(self, data: Any) -> None:
        import nibabel as nib

        from ct_spatial_bench.imaging.decode import gzip_backend

        refuse_if_read_only(self._read_only, self._filepath, "NIfTI volume")
        if isinstance(data, tuple):
            array, affine = data
            data = nib.Nifti1Image(array, affine)
        suffix = ".nii.gz" if self._filepath.name.endswith(".gz") else ".nii"
        with atomic_destination(self._filepath, suffix) as tmp:
            if (suffix == ".nii.gz" and type(data) is nib.Nifti1Image
                    and gzip_backend() == "isal"):
                # ISA-L deflates several times faster than zlib, at nibabel's level (1); the
                # header's time is 0 as nibabel writes it, so the same voxels give the same bytes
                # and a rewritten volume keeps its content fingerprint (fileio.source_fingerprint)
                from isal import igzip

                Path(tmp).write_bytes(igzip.compress(data.to_bytes(), compresslevel=1, mtime=0))
            else:
                nib.save(data, tmp)

    def _exists(self) -> bool:
        return Path(self._filepath).is_file()

    def _describe(self) -> dict[str, Any]:
        return {"filepath": str(self._filepath), "read_only": self._read_only}
