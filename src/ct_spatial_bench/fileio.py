"""Atomic file writes: a crash or a kill never leaves a half-written file under the final name.

Kept free of Kedro so that domain code (imaging/) and the Kedro datasets share one mechanism.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def atomic_destination(path: str | os.PathLike, suffix: str = ".tmp") -> Iterator[str]:
    """Yield a temporary path beside ``path``; on success it is renamed onto ``path``.

    ``suffix`` matters to writers that choose a format by extension (nibabel: ``.nii.gz``,
    ``numpy.save``: ``.npy``). On any error the temporary file is removed and nothing replaces
    ``path``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=suffix)
    os.close(fd)
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    with atomic_destination(path) as tmp:
        Path(tmp).write_bytes(data)
