"""Atomic file writes: a crash or a kill never leaves a half-written file under the final name.

Kept free of Kedro so that domain code (imaging/) and the Kedro datasets share one mechanism. A
write that fails (disk full, read-only folder) raises an ``OSError`` naming the file. Temporary
files carry the writing process's host and id (``.<name>.<host>-<pid>.<random><suffix>``), so
``remove_orphans`` can delete those a killed process left behind without touching the ones a live
run is writing.
"""

from __future__ import annotations

import errno
import os
import re
import socket
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

_HOST = re.sub(r"[^A-Za-z0-9_]", "_", socket.gethostname())
_TEMP = re.compile(r"^\.(?P<name>.+)\.(?P<host>[A-Za-z0-9_]+)-(?P<pid>\d+)\.[^.]+")


@contextmanager
def atomic_destination(path: str | os.PathLike, suffix: str = ".tmp") -> Iterator[str]:
    """Yield a temporary path beside ``path``; on success it is renamed onto ``path``.

    ``suffix`` matters to writers that choose a format by extension (nibabel: ``.nii.gz``,
    ``numpy.save``: ``.npy``). On any error the temporary file is removed and nothing replaces
    ``path``; an ``OSError`` is raised again naming ``path`` (a full disk's own message names no
    file).
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.{_HOST}-{os.getpid()}.",
                                   suffix=suffix)
        os.close(fd)
    except OSError as exc:
        raise _naming(exc, path) from exc
    try:
        yield tmp
        # mkstemp makes 0600 files; the result gets the mode a plain open() would give it,
        # so a cluster group can read each other's outputs under its umask.
        os.chmod(tmp, 0o666 & ~_current_umask())
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise _naming(exc, path) from exc
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _naming(exc: OSError, path: Path) -> OSError:
    if str(path) in str(exc):
        return exc
    reason = exc.strerror or str(exc) or type(exc).__name__
    hint = " (the disk is full)" if exc.errno == errno.ENOSPC else ""
    message = f"cannot write {path}: {reason}{hint}"
    return type(exc)(exc.errno, message) if exc.errno is not None else type(exc)(message)


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    with atomic_destination(path) as tmp:
        Path(tmp).write_bytes(data)


def process_alive(pid: int) -> bool:
    """Whether process ``pid`` runs on this host."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


def remove_orphans(folder: str | os.PathLike) -> list[Path]:
    """Delete the temporary files in ``folder`` (not below it) whose writer, a process on this
    host, is dead; return them. Another host's temporaries are left alone (its process may live)."""
    removed = []
    folder = Path(folder)
    if not folder.is_dir():
        return removed
    for child in folder.iterdir():
        match = _TEMP.match(child.name)
        if match and match["host"] == _HOST and child.is_file() and not process_alive(int(match["pid"])):
            child.unlink(missing_ok=True)
            removed.append(child)
    return removed


# How much of each end of a file the source fingerprint reads.
EDGE_BYTES = 1 << 20


def source_fingerprint(path: str | os.PathLike,
                       recorded: dict | None = None) -> dict[str, int | str]:
    """``{bytes, mtime_ns, sha256}`` of a source volume: a fast content hash of its size, its
    first and last MiB (the whole file when smaller), and, for an uncompressed file, its mtime.

    Why that is enough: a NIfTI's header (shape, affine, data type, scaling) lies in its first
    bytes; a truncated file changes size; and a gzip file (.nii.gz, as CT-RATE ships) ends with
    the CRC-32 and length of all its uncompressed data, so a change to any voxel changes its last
    bytes. An uncompressed file edited in the middle at the same size shows only in its mtime,
    which its hash therefore includes. ``recorded`` (an earlier fingerprint of the same file)
    is reused when size and mtime are unchanged, so an unchanged volume is not read again.
    """
    import hashlib

    stat = os.stat(path)
    if recorded and recorded.get("bytes") == stat.st_size and \
            recorded.get("mtime_ns") == stat.st_mtime_ns and recorded.get("sha256"):
        return dict(recorded)
    digest = hashlib.sha256(str(stat.st_size).encode())
    if not str(path).endswith(".gz"):
        digest.update(f":{stat.st_mtime_ns}".encode())
    with open(path, "rb") as handle:
        digest.update(handle.read(EDGE_BYTES))
        if stat.st_size > EDGE_BYTES:
            handle.seek(max(EDGE_BYTES, stat.st_size - EDGE_BYTES))
            digest.update(handle.read(EDGE_BYTES))
    return {"bytes": stat.st_size, "mtime_ns": stat.st_mtime_ns,
            "sha256": digest.hexdigest()[:32]}
