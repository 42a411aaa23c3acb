"""Preprocess many volumes: each decoded once for all the specs it still lacks, in parallel.

``preprocess_stream`` runs ``preprocess_volume`` over ``VolumeJob``s in ``workers`` processes and
yields each finished volume's outputs (arrays, or NIfTI images for ``output: nifti`` specs) with
its manifest row as soon as it is ready. It writes nothing: whoever consumes the stream saves the
outputs (the preprocessing node hands them to the catalog's ``model_inputs_<spec>`` datasets), so
where and how they are stored is the catalog's business. Which specs a volume still lacks is the
caller's to say; a volume that lacks none is only read for its header. A worker holds one decoded
volume and its outputs; at most one volume more than the workers is in flight, so memory stays
bounded however many volumes there are. Workers are spawned processes (safe with torch or CUDA
already loaded in the parent).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ct_spatial_bench.imaging.specs import InputSpec

logger = logging.getLogger(__name__)

# Bump when apply_spec's arithmetic changes, so outputs made by the old code are made again.
ALGORITHM_VERSION = 2

Outputs = dict[str, Any]  # spec name -> the volume's output for that spec


def spec_fingerprint(spec: InputSpec) -> str:
    """Names the spec's settings and the algorithm: outputs made under another one are stale."""
    blob = json.dumps({"spec": asdict(spec), "algorithm": ALGORITHM_VERSION},
                      sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


class SpecPartitions(dict):
    """One spec's model inputs by volume key, with the fingerprint of the spec that made them
    (None: unknown) and ``sources``: per volume key, the ``fileio.source_fingerprint`` of the
    source volume each was made from. What the preprocessing node saves, and what a
    ``ModelInputsDataset`` loads; to any other dataset it is a plain dict."""

    def __init__(self, partitions: Any = (), fingerprint: str | None = None,
                 sources: dict[str, dict[str, Any]] | None = None) -> None:
        super().__init__(partitions)
        self.fingerprint = fingerprint
        self.sources = dict(sources or {})


@dataclass(frozen=True)
class VolumeJob:
    """One volume to preprocess: ``load`` reads it (None: no such volume); ``specs`` are the
    specs it still lacks, ``reused`` the names of those it already has (for the manifest)."""

    key: str
    load: Callable[[], Any] | None
    specs: tuple[InputSpec, ...] = ()
    reused: tuple[str, ...] = ()
    ct_rate_metadata: dict[str, Any] | None = None
    source: dict[str, Any] | None = None  # the source file's fingerprint, when it is a file


def preprocess_volume(job: VolumeJob, backend: str | None = None) -> tuple[dict[str, Any], Outputs]:
    """Make ``job.specs`` for one volume from a single decode; return its manifest row and the
    outputs by spec name. Never raises: a failure is the row's ``error`` (naming the volume's
    file), and the outputs made before it are still returned.

    ``job.ct_rate_metadata`` (this volume's row of CT-RATE's metadata CSV) fills in spacing and HU
    rescale only where the header lacks them, so a "fixed" volume is never rescaled twice.
    """
    from types import SimpleNamespace

    from ct_spatial_bench.imaging.checks import check_volume_geometry
    from ct_spatial_bench.imaging.decode import (
        decode_file, decode_volume, gzip_backend, read_header,
    )
    from ct_spatial_bench.imaging.orientation import axis_codes, reorient, voxel_spacing
    from ct_spatial_bench.imaging.specs import apply_spec

    row: dict[str, Any] = {"volume_key": job.key, "source": None, "status": "ok", "error": None,
                           "made": [], "reused": sorted(job.reused), "seconds": None,
                           "source_fingerprint": (job.source or {}).get("sha256"),
                           "source_bytes": (job.source or {}).get("bytes"),
                           "source_mtime_ns": (job.source or {}).get("mtime_ns")}
    outputs: Outputs = {}
    started = time.perf_counter()
    try:
        if job.load is None:
            raise FileNotFoundError(f"no volume {job.key!r} under the raw volume folder")
        path = row["source"] = source_path(job.load)
        if path is not None:  # the header alone, without nibabel's (slower) gzip opener
            header = read_header(path)
            image = SimpleNamespace(affine=header.get_best_affine(),
                                    shape=header.get_data_shape())
        else:
            image = job.load()
        check_volume_geometry(image.shape, image.affine)
        row.update(source_orientation=axis_codes(image), source_shape=list(image.shape[:3]),
                   source_spacing=list(voxel_spacing(image)))
        if job.specs:
            backend = backend or gzip_backend()
            decoded = decode_file(path, backend) if path else decode_volume(image, backend)
            row["gzip_backend"] = backend
            _refuse_non_finite(decoded)
            if job.ct_rate_metadata is not None:
                from ct_spatial_bench.imaging.ct_rate import apply_ct_rate_metadata

                decoded, row["ct_rate_metadata"] = apply_ct_rate_metadata(decoded,
                                                                          job.ct_rate_metadata)
                row["source_spacing"] = list(voxel_spacing(decoded))
            by_orientation: dict[str, Any] = {}  # specs sharing an orientation share the flip
            for spec in job.specs:
                if spec.orientation not in by_orientation:
                    by_orientation[spec.orientation] = reorient(decoded, spec.orientation)
                outputs[spec.name] = apply_spec(by_orientation[spec.orientation], spec)
                row["made"].append(spec.name)
    except Exception as exc:  # noqa: BLE001 - one bad volume must not end the run
        where = f" ({row['source']})" if row["source"] else ""
        row.update(status="error", error=f"{type(exc).__name__}{where}: {exc}")
    row["seconds"] = round(time.perf_counter() - started, 4)
    return row, outputs


def _refuse_non_finite(image: Any) -> None:
    """A volume with NaN or infinite voxels is a data error, not an input (its windows and
    resampling would spread the NaNs silently)."""
    import numpy as np

    data = np.asanyarray(image.dataobj)
    if data.dtype.kind == "f":
        bad = int(data.size - np.count_nonzero(np.isfinite(data)))
        if bad:
            raise ValueError(f"{bad} of {data.size} voxels are not finite (NaN or infinite)")


def source_path(load: Callable[[], Any]) -> str | None:
    """The file a dataset's ``load`` reads (a PartitionedDataset's partitions are bound
    ``load`` methods of file datasets), or None when it is not a local file."""
    describe = getattr(getattr(load, "__self__", None), "_describe", None)
    try:
        path = (describe() or {}).get("filepath") if describe else None
    except Exception:  # noqa: BLE001 - an odd dataset: fall back to loading it
        return None
    return str(path) if path and Path(str(path)).is_file() else None


def preprocess_stream(jobs: Iterable[VolumeJob], workers: int | None = 1,
                      backend: str | None = None, progress: bool = True,
                      ) -> Iterator[list[tuple[dict[str, Any], Outputs]]]:
    """Yield ``(row, outputs)`` of every job, in chunks: first one chunk of the volumes that lack
    no spec (always yielded, possibly empty), then the others as they finish (several at once
    when several finished while the caller was busy), each chunk sorted by volume key.

    ``workers``: processes (1: in this process; None or 0: one per CPU).
    """
    from tqdm.auto import tqdm

    jobs = list(jobs)
    todo = [job for job in jobs if job.specs]
    yield [_logged(preprocess_volume(job, backend)) for job in jobs if not job.specs]
    workers = resolve_workers(workers, len(todo))
    finished = _in_this_process(todo, backend) if workers <= 1 else _in_processes(
        todo, backend, workers)
    quiet = {"disable": None if progress else True}  # None: drawn on a terminal only
    with tqdm(total=len(todo), desc="preprocessing", leave=False, **quiet) as bar:
        for chunk in finished:
            bar.update(len(chunk))
            yield [_logged(result) for result in sorted(chunk, key=lambda r: r[0]["volume_key"])]


def _in_this_process(jobs: list[VolumeJob], backend: str | None,
                     ) -> Iterator[list[tuple[dict[str, Any], Outputs]]]:
    for job in jobs:
        yield [preprocess_volume(job, backend)]


def _in_processes(jobs: list[VolumeJob], backend: str | None, workers: int,
                  ) -> Iterator[list[tuple[dict[str, Any], Outputs]]]:
    import multiprocessing
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    queue = iter(jobs)
    pending: set = set()
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"))

    def top_up() -> None:  # every worker busy, and one volume ready for the first to finish
        while len(pending) <= workers and (job := next(queue, None)) is not None:
            pending.add(pool.submit(preprocess_volume, job, backend))

    try:
        top_up()
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            top_up()  # the workers go on while the caller saves what is done
            yield [future.result() for future in done]
    finally:  # also when the caller stops early: do not wait for volumes nobody will save
        pool.shutdown(wait=True, cancel_futures=True)


def resolve_workers(workers: int | None, jobs: int) -> int:
    """``workers`` as a process count: None or 0 means one per CPU; never more than the jobs."""
    if not workers:
        workers = os.cpu_count() or 1
    return max(1, min(int(workers), max(jobs, 1)))


def _logged(result: tuple[dict[str, Any], Outputs]) -> tuple[dict[str, Any], Outputs]:
    row = result[0]
    if row["status"] == "error":
        logger.error("preprocessing %s: %s", row["volume_key"], row["error"])
    return result
