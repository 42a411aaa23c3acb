"""Atomic file writes: a crash or a kill never leaves a half-written file under the final name.

Kept free of Kedro so that domain code (imaging/) and the Kedro datasets share one mechanism.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from threading import Lock

_UMASK_LOCK = Lock()


def _current_umask() -> int:
    """The process umask (reading it means setting it; the lock keeps threads from racing)."""
    with _UMASK_LOCK:
        mask = os.umask(0o022)
        os.umask(mask)
    return mask


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
        # mkstemp makes 0600 files; the result gets the mode a plain open() would give it,
        # so a cluster group can read each other's outputs under its umask.
        os.chmod(tmp, 0o666 & ~_current_umask())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    with atomic_destination(path) as tmp:
        Path(tmp).write_bytes(data)
