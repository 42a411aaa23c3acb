"""Preprocess many volumes: each decoded once for every spec, in parallel, resumable.

A worker decodes one volume (``imaging.decode``), applies every spec that still lacks an output
and writes each result at once (atomically), so memory holds one volume per worker and a killed
run loses at most the volumes in flight. An output already on disk is not made again; a spec
folder stamped with another fingerprint (the spec or the algorithm changed) is cleared first, so a
stale input never survives a change. Workers are spawned processes (safe with torch or CUDA
already loaded in the parent).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ct_spatial_bench.imaging.specs import InputSpec

logger = logging.getLogger(__name__)

# Bump when apply_spec's arithmetic changes, so outputs made by the old code are made again.
ALGORITHM_VERSION = 2
FINGERPRINT_FILE = ".spec.json"


@dataclass(frozen=True)
class OutputTarget:
    """Where one spec's outputs go: ``folder/<volume key><suffix>``."""

    spec: InputSpec
    folder: Path

    @property
    def suffix(self) -> str:
        return ".npy" if self.spec.output == "npy" else ".nii.gz"

    def path(self, key: str) -> Path:
        return self.folder / f"{key}{self.suffix}"

    def fingerprint(self) -> str:
        blob = json.dumps({"spec": asdict(self.spec), "algorithm": ALGORITHM_VERSION},
                          sort_keys=True, default=str)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]


def prepare_targets(targets: Iterable[OutputTarget]) -> None:
    """Stamp each spec folder with its fingerprint, clearing outputs made under another one."""
    for target in targets:
        stamp = target.folder / FINGERPRINT_FILE
        wanted = {"spec": target.spec.name, "fingerprint": target.fingerprint()}
        if stamp.is_file() and json.loads(stamp.read_text()) == wanted:
            continue
        stale = list(target.folder.rglob(f"*{target.suffix}")) if target.folder.is_dir() else []
        if stale:
            logger.warning("preprocessing %s: spec changed, remaking %d outputs in %s",
                           target.spec.name, len(stale), target.folder)
        for path in stale:
            path.unlink()
        target.folder.mkdir(parents=True, exist_ok=True)
        stamp.write_text(json.dumps(wanted) + "\n")


def preprocess_volume(key: str, load: Callable[[], Any] | None,
                      targets: list[OutputTarget], backend: str | None = None,
                      ct_rate_metadata: dict[str, Any] | None = None) -> dict[str, Any]:
    """Make every missing output of one volume; return its manifest row (never raises).

    ``ct_rate_metadata`` (this volume's row of CT-RATE's metadata CSV) fills in spacing and HU
    rescale only where the header lacks them, so a "fixed" volume is never rescaled twice.
    """
    from types import SimpleNamespace

    from ct_spatial_bench.imaging.decode import (
        decode_file, decode_volume, gzip_backend, read_header,
    )
    from ct_spatial_bench.imaging.orientation import axis_codes, reorient, voxel_spacing
    from ct_spatial_bench.imaging.specs import apply_spec

    row: dict[str, Any] = {"volume_key": key, "status": "ok", "error": None,
                           "made": [], "reused": [], "seconds": None}
    started = time.perf_counter()
    try:
        if load is None:
            raise FileNotFoundError(f"no volume {key!r} under the raw volume folder")
        path = source_path(load)
        if path is not None:  # the header alone, without nibabel's (slower) gzip opener
            header = read_header(path)
            image = SimpleNamespace(affine=header.get_best_affine(),
                                    shape=header.get_data_shape())
        else:
            image = load()
        row.update(source_orientation=axis_codes(image), source_shape=list(image.shape[:3]),
                   source_spacing=list(voxel_spacing(image)))
        todo = [t for t in targets if not t.path(key).is_file()]
        row["reused"] = sorted(t.spec.name for t in targets if t not in todo)
        if todo:
            backend = backend or gzip_backend()
            decoded = decode_file(path, backend) if path else decode_volume(image, backend)
            row["gzip_backend"] = backend
            if ct_rate_metadata is not None:
                from ct_spatial_bench.imaging.ct_rate import apply_ct_rate_metadata

                decoded, row["ct_rate_metadata"] = apply_ct_rate_metadata(decoded,
                                                                          ct_rate_metadata)
                row["source_spacing"] = list(voxel_spacing(decoded))
            by_orientation: dict[str, Any] = {}  # specs sharing an orientation share the flip
            for target in todo:
                orientation = target.spec.orientation
                if orientation not in by_orientation:
                    by_orientation[orientation] = reorient(decoded, orientation)
                save_output(target.path(key), apply_spec(by_orientation[orientation],
                                                         target.spec))
                row["made"].append(target.spec.name)
    except Exception as exc:  # noqa: BLE001 - one bad volume must not end the run
        row.update(status="error", error=f"{type(exc).__name__}: {exc}")
    row["seconds"] = round(time.perf_counter() - started, 4)
    return row


def source_path(load: Callable[[], Any]) -> str | None:
    """The file a dataset's ``load`` reads (a PartitionedDataset's partitions are bound
    ``load`` methods of file datasets), or None when it is not a local file."""
    describe = getattr(getattr(load, "__self__", None), "_describe", None)
    try:
        path = (describe() or {}).get("filepath") if describe else None
    except Exception:  # noqa: BLE001 - an odd dataset: fall back to loading it
        return None
    return str(path) if path and Path(str(path)).is_file() else None


def save_output(path: Path, output: Any) -> None:
    """Write an ndarray (``.npy``) or a NIfTI image through a temporary file and a rename."""
    import nibabel as nib
    import numpy as np

    from ct_spatial_bench.fileio import atomic_destination
    from ct_spatial_bench.imaging.decode import gzip_backend

    suffix = ".npy" if path.name.endswith(".npy") else ".nii.gz"
    with atomic_destination(path, suffix) as tmp:
        if suffix == ".npy":
            np.save(tmp, np.asarray(output), allow_pickle=False)
        elif gzip_backend() == "isal":  # ISA-L deflates several times faster than zlib
            from isal import igzip

            Path(tmp).write_bytes(igzip.compress(output.to_bytes(), compresslevel=1))
        else:
            nib.save(output, tmp)


def preprocess_all(jobs: list[tuple[str, Callable[[], Any] | None]], targets: list[OutputTarget],
                   workers: int | None = 1, backend: str | None = None,
                   progress: bool = True,
                   ct_rate_metadata: dict[str, dict[str, Any]] | None = None,
                   ) -> list[dict[str, Any]]:
    """Run ``preprocess_volume`` over ``(key, load)`` jobs with ``workers`` processes
    (1: in this process; None or 0: one per CPU). Returns the manifest rows sorted by key.

    ``ct_rate_metadata`` maps CT-RATE VolumeNames (``valid_1_a_1.nii.gz``) to their metadata; a
    job's volume is looked up by its key's file name."""
    from tqdm.auto import tqdm

    prepare_targets(targets)
    # Finished volumes (every output on disk) are only listed, here, with no process started.
    finished = [job for job in jobs if all(t.path(job[0]).is_file() for t in targets)]
    todo = [job for job in jobs if job not in finished]
    workers = resolve_workers(workers, len(todo))
    def metadata_of(key: str) -> dict[str, Any] | None:
        return (ct_rate_metadata or {}).get(f"{Path(key).name}.nii.gz")

    rows = [_logged(preprocess_volume(key, load, targets, backend, metadata_of(key)))
            for key, load in finished]
    with tqdm(total=len(todo), desc="preprocessing", disable=not progress, leave=False) as bar:
        if workers <= 1:
            for key, load in todo:
                rows.append(_logged(preprocess_volume(key, load, targets, backend,
                                                      metadata_of(key))))
                bar.update()
        else:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor, as_completed

            context = multiprocessing.get_context("spawn")
            with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
                futures = [pool.submit(preprocess_volume, key, load, targets, backend,
                                       metadata_of(key)) for key, load in todo]
                for future in as_completed(futures):
                    rows.append(_logged(future.result()))
                    bar.update()
    return sorted(rows, key=lambda r: r["volume_key"])


def resolve_workers(workers: int | None, jobs: int) -> int:
    """``workers`` as a process count: None or 0 means one per CPU; never more than the jobs."""
    if not workers:
        workers = os.cpu_count() or 1
    return max(1, min(int(workers), max(jobs, 1)))


def _logged(row: dict[str, Any]) -> dict[str, Any]:
    if row["status"] == "error":
        logger.error("preprocessing %s: %s", row["volume_key"], row["error"])
    return row
