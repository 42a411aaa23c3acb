"""Nodes that turn each unique volume into every input format the selected models ask for."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from typing import Any

logger = logging.getLogger(__name__)


def preprocess_volumes(
    qa_items: list[dict[str, Any]],
    raw_volumes: dict[str, Callable[[], Any]],
    params: dict[str, Any],
    existing_inputs: Mapping[str, Callable[[], Mapping[str, Any]]],
    spec_names: tuple[str, ...],
) -> Iterator[tuple]:
    """Decode each volume the benchmark asks about once and make every spec it still lacks.

    A generator: each chunk it yields is saved by Kedro as it comes, one ``SpecPartitions`` per
    spec (the chunk's volumes that now have that spec, with the spec's fingerprint) into
    ``model_inputs_<spec>``, then the manifest so far, so a killed run keeps every volume finished
    before it. ``existing_inputs`` is, per spec, what ``model_inputs_<spec>`` already held when
    the run started (``existing_model_inputs``: every spec's inputs in one dataset, a loader per
    spec that has inputs, as Kedro lets no node read its own output); a volume's spec is made
    only where it is missing or was made by another version of the spec, or from a source volume that has changed since (its size, mtime and a
    hash of its ends: ``fileio.source_fingerprint``, recorded in the manifest as
    ``source_fingerprint``). Volumes run in ``params["workers"]`` processes (1: in this process; null:
    one per CPU). The manifest has a row per volume (source file, orientation, shape, spacing, the
    specs made and reused, seconds, where spacing and rescale came from, and an error where it
    could not be read); a bad volume is logged and recorded, and the other volumes go on.
    ``params["ct_rate_metadata"]``: CT-RATE's metadata CSV, for volumes whose headers lack spacing
    or rescale (the "fixed" release carries them; then leave it null).
    """
    from pathlib import Path

    from ct_spatial_bench.imaging.batch import (
        SpecPartitions,
        VolumeJob,
        preprocess_stream,
        spec_fingerprint,
    )
    from ct_spatial_bench.imaging.specs import InputSpec
    from ct_spatial_bench.records import volume_key
    from ct_spatial_bench.sharding import PredictionPart, select_shard

    # only_specs: the specs a cluster job's models read (kedro slurm submit); the others are
    # left as they are. shard_index/num_shards: this array task's share of the volumes.
    only = params.get("only_specs") or spec_names
    wanted = set(only.split("+") if isinstance(only, str) else only)
    specs = [InputSpec.from_params(name, params["specs"][name]) for name in spec_names
             if name in wanted]
    index, num_shards = int(params.get("shard_index", 0)), int(params.get("num_shards", 1))
    qa_items = select_shard(qa_items, index, num_shards, by="volume")
    fingerprints = {spec.name: spec_fingerprint(spec) for spec in specs}
    prefix = params.get("volume_path_prefix", "")
    keys = sorted({volume_key(item["image_path"], prefix) for item in qa_items})
    existing_of = {name: existing_inputs[name]() if name in existing_inputs else None
                   for name in spec_names}
    sources = _source_fingerprints(keys, raw_volumes, tuple(existing_of.values()))
    present = {spec.name: _still_valid(existing_of[spec.name], spec.name, fingerprints[spec.name],
                                       sources)
               for spec in specs}
    metadata = None
    if params.get("ct_rate_metadata") and not Path(params["ct_rate_metadata"]).is_file():
        logger.info("preprocessing: no CT-RATE metadata at %s; spacing and rescale from the "
                    "headers only", params["ct_rate_metadata"])
    elif params.get("ct_rate_metadata"):
        from ct_spatial_bench.imaging.ct_rate import load_ct_rate_metadata

        metadata = load_ct_rate_metadata(params["ct_rate_metadata"])
    jobs = [VolumeJob(
        key, raw_volumes.get(key),
        specs=tuple(s for s in specs if key not in present[s.name]),
        reused=tuple(s.name for s in specs if key in present[s.name]),
        ct_rate_metadata=(metadata or {}).get(f"{Path(key).name}.nii.gz"),
        source=sources.get(key),
    ) for key in keys]
    manifest: list[dict[str, Any]] = []
    for chunk in preprocess_stream(jobs, workers=params.get("workers", 1),
                                   backend=params.get("gzip_backend")):
        manifest = sorted([*manifest, *(row for row, _ in chunk)], key=lambda r: r["volume_key"])
        yield (*[SpecPartitions({row["volume_key"]: outputs[name] for row, outputs in chunk
                                 if name in outputs}, fingerprint=fingerprints[name],
                                sources={row["volume_key"]: sources[row["volume_key"]]
                                         for row, outputs in chunk
                                         if row["volume_key"] in sources and
                                         (name in outputs or name in row["reused"]
                                          or row["status"] == "error")})
                 if name in fingerprints else {} for name in spec_names],
               manifest if num_shards == 1 else PredictionPart(manifest, index, num_shards))
    failed = sum(row["status"] == "error" for row in manifest)
    made = sum(bool(row["made"]) for row in manifest)
    if failed:  # data errors, listed by volume: their items are errors at inference, not answers
        logger.error("preprocessing: %d volumes could not be used:\n%s", failed, "\n".join(
            f"  {row['volume_key']}: {row['error']}" for row in manifest
            if row["status"] == "error"))
    logger.info("preprocessing: %d volumes (%d made, %d already done, %d failed), specs %s",
                len(keys), made, len(keys) - made - failed, failed, spec_names)


def _source_fingerprints(keys: list[str], raw_volumes: Mapping[str, Callable[[], Any]],
                         existing_inputs: tuple[Mapping[str, Any] | None, ...]
                         ) -> dict[str, dict[str, Any]]:
    """The current fingerprint of each volume that is a local file (an unchanged file's recorded
    one is reused without reading it)."""
    from ct_spatial_bench.fileio import source_fingerprint
    from ct_spatial_bench.imaging.batch import source_path

    recorded: dict[str, dict[str, Any]] = {}
    for existing in existing_inputs:
        recorded.update(getattr(existing, "sources", None) or {})
    out = {}
    for key in keys:
        path = source_path(raw_volumes[key]) if key in raw_volumes else None
        if path is not None:
            out[key] = source_fingerprint(path, recorded.get(key))
    return out


def _still_valid(existing: Mapping[str, Any] | None, spec: str, fingerprint: str,
                 sources: Mapping[str, dict[str, Any]] | None = None) -> set[str]:
    """The volume keys whose ``spec`` input exists, was made by this version of the spec and,
    where the source is a file, from the source as it is now."""
    from ct_spatial_bench.imaging.batch import SpecPartitions

    if not existing:
        return set()
    # An input made before sources were fingerprinted is adopted for the source as it is now
    # (remaking every input of a full split once would cost hours); from then on it is checked.
    made_from = existing.sources if isinstance(existing, SpecPartitions) else {}
    changed = {key for key, now in (sources or {}).items() if key in existing and
               key in made_from and made_from[key].get("sha256") != now["sha256"]}
    if changed:
        logger.warning("model_inputs_%s: %d source volumes changed since their inputs were made; "
                       "making them again: %s", spec, len(changed), ", ".join(sorted(changed)[:10]))
    return _unchanged_spec(existing, spec, fingerprint) - changed


def _unchanged_spec(existing: Mapping[str, Any], spec: str, fingerprint: str) -> set[str]:
    from ct_spatial_bench.imaging.batch import SpecPartitions

    if not isinstance(existing, SpecPartitions):
        logger.warning("model_inputs_%s: the catalog's dataset does not record which spec made "
                       "its %d inputs; they are kept as they are", spec, len(existing))
        return set(existing)
    if existing.fingerprint != fingerprint:
        logger.info("model_inputs_%s: the spec changed; its %d inputs are made again",
                    spec, len(existing))
        return set()
    return set(existing)
