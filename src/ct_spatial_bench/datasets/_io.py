"""Small file helpers shared by the project's datasets."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` so a crash never leaves a half-written file under ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def refuse_if_read_only(read_only: bool, filepath: str | os.PathLike, what: str) -> None:
    from kedro.io.core import DatasetError

    if read_only:
        raise DatasetError(
            f"{what} at {filepath} is read-only in this environment: it is source data, "
            "and nothing in the run may overwrite it (in --env full run "
            "`--pipelines benchmark`, which leaves out sanity_data)."
        )
