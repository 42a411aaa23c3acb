"""Whether a spec's preprocessed inputs were made from the volumes as they are now.

Preprocessing remakes an input whose source volume changed (``fileio.source_fingerprint``); a
run of ``inference_<model>`` alone does not preprocess, so it asks here before answering: an input
made from an older version of its volume would be a stale answer served as a fresh one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from ct_spatial_bench.errors import ConfigurationError

if TYPE_CHECKING:
    from ct_spatial_bench.records import QAItem


class StaleInputsError(ConfigurationError):
    """Preprocessed inputs made from an older version of their volumes."""


def volume_fingerprints(model_inputs: Any) -> dict[str, str]:
    """Per volume key, the content fingerprint of the source volume its input was made from
    (``SpecPartitions.sources``; empty for inputs that record none)."""
    sources = getattr(model_inputs, "sources", None) or {}
    return {key: str(found["sha256"]) for key, found in sources.items()
            if isinstance(found, Mapping) and found.get("sha256")}


def changed_volumes(model_inputs: Any,
                    raw_volumes: Mapping[str, Callable[[], Any]] | None) -> set[str]:
    """The volume keys whose source file differs from the one their input was made from. A
    volume that is not a local file, or an input that records no source (made before sources
    were recorded, adopted as preprocessing adopts it), is not judged here. Unchanged files cost
    one ``stat`` each (``fileio.source_fingerprint``)."""
    from ct_spatial_bench.fileio import source_fingerprint
    from ct_spatial_bench.imaging.batch import source_path

    recorded = getattr(model_inputs, "sources", None) or {}
    changed = set()
    for key, made_from in recorded.items():
        load = (raw_volumes or {}).get(key)
        path = source_path(load) if load is not None else None
        if not made_from or path is None:
            continue
        if source_fingerprint(path, made_from).get("sha256") != made_from.get("sha256"):
            changed.add(key)
    return changed


def with_volume_fingerprints(model: str, spec: str, items: list[QAItem], model_inputs: Any,
                             raw_volumes: Mapping[str, Callable[[], Any]] | None,
                             path_prefix: str = "") -> list[QAItem]:
    """``items``, each with the fingerprint of the source volume its input was made from (its
    question fingerprint then names that content). When ``raw_volumes`` is given, an item whose
    input was made from an older version of its volume stops the run first, in one line: its
    answer would be about a volume that no longer exists."""
    from dataclasses import replace

    from ct_spatial_bench.records import volume_key

    changed = changed_volumes(model_inputs, raw_volumes) if raw_volumes is not None else set()
    made_from = volume_fingerprints(model_inputs)
    key_of = {item.qa_id: volume_key(item.image_path, path_prefix) for item in items}
    stale = sorted(changed & set(key_of.values()))
    if stale:
        raise StaleInputsError(
            f"inference_{model}: {len(stale)} volume(s) changed since their {spec} inputs were "
            f"made ({', '.join(stale[:3])}{', ...' if len(stale) > 3 else ''}); run "
            "`kedro run --pipelines preprocessing` first (it remakes only those), then this "
            "pipeline again.")
    return [replace(item, volume_fingerprint=made_from.get(key_of[item.qa_id])) for item in items]
