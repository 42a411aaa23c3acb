"""What a chain of cluster jobs has already finished, read from the outputs on disk.

A resubmission after a failed job plans only the rest: the QA set when ``benchmark_qa`` holds the
candidates' questions (else nothing counts as finished); preprocessing when every volume has every needed spec (made by this
version of the spec); a model when its merged predictions cover the QA set, else the array tasks
whose part file is missing; the evaluation when its report exists and nothing before it reruns.
Inference checkpoints and the judge cache make a rerun of an unfinished job ask nothing twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any


def _ids(records: Iterable[Mapping[str, Any]]) -> set[str]:
    return {str(r["qa_id"]) for r in records}


def finished(catalog: Any, params: Mapping[str, Any], models: Mapping[str, int],
             specs: Iterable[str]) -> tuple[set[str], dict[str, frozenset[int]]]:
    """(finished job names, finished array indices per model) for ``models`` (name -> shards)."""
    from ct_spatial_bench.datasets.predictions_dataset import PredictionsDataset
    from ct_spatial_bench.imaging.batch import spec_fingerprint
    from ct_spatial_bench.imaging.specs import InputSpec
    from ct_spatial_bench.records import volume_key
    from ct_spatial_bench.sharding import PredictionPart

    done: set[str] = set()
    shards: dict[str, frozenset[int]] = {}
    qa = catalog.get("benchmark_qa")
    if not qa.exists():
        return done, shards
    items = qa.load()
    asked = _ids(items)
    if not asked <= _ids(catalog.get("qa_candidates").load()):
        return done, shards  # another QA set: everything after it is redone
    done.add("qa")
    prefix = (params.get("preprocessing") or {}).get("volume_path_prefix") or ""
    volumes = {volume_key(item["image_path"], prefix) for item in items}
    spec_params = (params.get("preprocessing") or {}).get("specs") or {}
    if all(_spec_complete(catalog.get(f"model_inputs_{spec}"), volumes,
                          spec_fingerprint(InputSpec.from_params(spec, spec_params[spec])))
           for spec in specs):
        done.add("preprocessing")
    for model, num_shards in models.items():
        predictions: PredictionsDataset = catalog.get(f"{model}.predictions")
        if predictions.exists() and asked <= _ids(predictions.load()):
            done.update({f"inference_{model}", f"merge_{model}"})
            continue
        shards[model] = frozenset(
            i for i in range(num_shards) if num_shards > 1 and Path(
                predictions.location_of(PredictionPart([], i, num_shards))).is_file())
    if catalog.get("html_report").exists():
        done.add("reporting")
    return done, shards


def _spec_complete(dataset: Any, volumes: set[str], fingerprint: str) -> bool:
    if dataset.fingerprint() != fingerprint:
        return False
    return volumes <= set(dataset.load())

