"""Download upstream CT-SpatialVQA's public files at a pinned commit, each checked by size and
SHA-256 against the table in ``upstream_files.yml``, into the folder ``reproduce`` reads.

A file already there with the right size and digest is kept (a rerun downloads only what is
missing or damaged). Each download goes to a temporary file beside its target and is renamed
only once it has the right size and digest, so an interrupted run never leaves a half file that
a later check would take for the real one. Without the network the run stops in one paragraph
naming the manual way (a ``git clone`` at the commit, then ``reproduce.source_dir``).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from ct_spatial_bench.errors import ConfigurationError

TABLE = Path(__file__).with_name("upstream_files.yml")
CHUNK = 1 << 20


class UpstreamUnreachable(ConfigurationError):
    """The upstream repository could not be reached (no network, a proxy, a wrong base_url)."""


class UpstreamFileMismatch(ConfigurationError):
    """A downloaded file's size or SHA-256 is not the table's: not the file reproduce expects."""


def load_table(path: str | os.PathLike | None = None) -> dict[str, Any]:
    """The pinned table: ``repository``, ``commit`` and ``files`` ({path, local, size, sha256})."""
    import yaml

    table = yaml.safe_load(Path(path or TABLE).read_text(encoding="utf-8"))
    for row in table["files"]:
        missing = {"path", "local", "size", "sha256"} - set(row)
        if missing:
            raise ConfigurationError(f"{path or TABLE}: the row for {row} lacks {sorted(missing)}")
    return table


def _digest(path: Path) -> tuple[int, str]:
    digest, size = hashlib.sha256(), 0
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(CHUNK), b""):
            digest.update(block)
            size += len(block)
    return size, digest.hexdigest()


def _matches(path: Path, row: dict[str, Any]) -> bool:
    return path.is_file() and path.stat().st_size == int(row["size"]) and \
        _digest(path) == (int(row["size"]), row["sha256"])


def manual_way(table: dict[str, Any], target_dir: str | os.PathLike) -> str:
    clone = Path(str(table["repository"]).rstrip("/")).name
    return (f"download them by hand: `git clone {table['repository']} && git -C {clone} checkout "
            f"{table['commit']}`, then `kedro run --pipelines reproduce --params "
            f"reproduce.source_dir={clone}` (or copy the files into {target_dir})")


def _download(url: str, into: Path, timeout_s: float) -> None:
    with urllib.request.urlopen(url, timeout=timeout_s) as response, open(into, "wb") as out:
        for block in iter(lambda: response.read(CHUNK), b""):
            out.write(block)


def fetch_upstream_files(base_url: str, target_dir: str | os.PathLike,
                         table: dict[str, Any], timeout_s: float = 60) -> list[dict[str, Any]]:
    """Every file of ``table`` in ``target_dir``, downloaded from
    ``<base_url>/<commit>/<path>`` where it is not already there; one row per file saying so."""
    target = Path(target_dir)
    rows = []
    for row in table["files"]:
        destination = target / row["local"]
        record = {"local": row["local"], "upstream_path": row["path"], "size": int(row["size"]),
                  "sha256": row["sha256"], "commit": table["commit"]}
        if _matches(destination, row):
            rows.append({**record, "status": "present"})
            continue
        destination.parent.mkdir(parents=True, exist_ok=True)
        url = f"{base_url.rstrip('/')}/{table['commit']}/{row['path']}"
        handle, partial = tempfile.mkstemp(prefix=f".{destination.name}.", dir=destination.parent)
        os.close(handle)
        partial_path = Path(partial)
        try:
            try:
                _download(url, partial_path, timeout_s)
            except (urllib.error.URLError, OSError) as error:  # HTTPError is a URLError
                reason = getattr(error, "reason", None) or error
                raise UpstreamUnreachable(
                    f"`kedro run --pipelines fetch_upstream` could not download {url} ({reason}). "
                    f"It needs the network; without it, {manual_way(table, target)}.") from None
            size, digest = _digest(partial_path)
            if (size, digest) != (int(row["size"]), row["sha256"]):
                raise UpstreamFileMismatch(
                    f"{url} is not the file the table pins: {size} bytes, SHA-256 {digest}, "
                    f"where the table (reproduction/upstream_files.yml) says {row['size']} bytes, "
                    f"{row['sha256']}; nothing was written to {destination}. Check "
                    "fetch_upstream.base_url, or " + manual_way(table, target) + ".")
            partial_path.replace(destination)
        finally:
            partial_path.unlink(missing_ok=True)
        rows.append({**record, "status": "downloaded"})
    return rows
