"""NumPy arrays stored as ``.npy`` files: model inputs that have no affine any more."""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from typing import Any

from kedro.io import AbstractDataset

from ct_spatial_bench.fileio import atomic_destination


class NpyDataset(AbstractDataset[Any, Any]):
    """Loads and saves one ``numpy.ndarray``; ``mmap_mode`` in ``load_args`` maps it lazily."""

    def __init__(
        self,
        filepath: str,
        load_args: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        self._filepath = PurePosixPath(filepath)
        self._load_args = dict(load_args or {})
        self.metadata = metadata

    def _load(self) -> Any:
        import numpy as np

        return np.load(str(self._filepath), allow_pickle=False, **self._load_args)

    def _save(self, data: Any) -> None:
        import numpy as np

        # straight into the temporary file: a model input can be hundreds of MB, not worth a copy
        with atomic_destination(self._filepath, ".npy") as tmp:
            np.save(tmp, np.asarray(data), allow_pickle=False)

    def _exists(self) -> bool:
        return Path(self._filepath).is_file()

    def _describe(self) -> dict[str, Any]:
        return {"filepath": str(self._filepath)}
