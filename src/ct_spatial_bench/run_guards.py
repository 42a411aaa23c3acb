"""Kedro hooks that guard a run: the preflight before any node, and a stamp on every artifact.

Every output lives under the environment's ``run_root`` (conf/<env>/globals.yml: ``data`` for the
sanity split, ``data/full`` for the full split). Each file a run writes gets a stamp with its split
and the QA set's fingerprint; reading a file stamped by another QA set or split is an error. The
preflight checks what a run reads but does not write, the volumes, the models' checkpoints and
the judges' keys, and prints the plan (preflight.py holds the checks themselves).
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kedro.framework.hooks import hook_impl

from ct_spatial_bench import stamps

if TYPE_CHECKING:
    from ct_spatial_bench.preflight import RunPlan


def run_globals(context: Any) -> dict[str, Any]:
    """``run_root`` and ``split`` of the environment (conf/<env>/globals.yml)."""
    found = dict(context.config_loader["globals"] or {})
    return {"run_root": str(found.get("run_root", "data")),
            "split": str(found.get("split", context.env or "sanity"))}


def dataset_location(dataset: Any) -> str | None:
    """Where a dataset reads and writes (a file or a folder); None for one in memory."""
    for attribute in ("_filepath", "_path", "_normalised_path"):
        value = getattr(dataset, attribute, None)
        if value:
            return str(value)
    try:
        described = dataset._describe()
    except Exception:  # noqa: BLE001 - a dataset that cannot describe itself has no location
        return None
    value = described.get("filepath") or described.get("path")
    return str(value) if value else None


# console.py's progress logger, by name (console.py reads this module: no import cycle)
_CONSOLE = logging.getLogger("ct_spatial_bench.console")
_INFERENCE_PARAMS = re.compile(r"^params:(?P<model>[^.]+)\.inference$")


def preflight(params: dict[str, Any], pipeline: Any, catalog: Any, split: str) -> RunPlan:
    """Check what ``pipeline`` needs before any node runs; the plan, or a ConfigurationError.

    Inputs no stage of the run writes must exist (``preflight.parameters_of`` names the runtime
    parameter that moves each); every volume the QA names must resolve; each selected model must
    be configured; each judge needs its key, or the fallback that applies is said.
    """
    from ct_spatial_bench import preflight as checks
    from ct_spatial_bench.datasets.ct_spatialvqa_dataset import CTSpatialVQADataset
    from ct_spatial_bench.datasets.optional_dataset import OptionalDataset

    parameters_of = (params.get("preflight") or {}).get("parameters_of") or {}
    inputs = {name for name in pipeline.inputs() if name in catalog}
    # what the run writes, under any name (the full split's blind prior is its benchmark QA;
    # the judging's prediction folder is where inference writes)
    written = {dataset_location(catalog.get(name)) for name in pipeline.all_outputs()
               if name in catalog}
    def made_here(location: str) -> bool:  # the file, or a file in the folder
        return any(w == location or w.startswith(location.rstrip("/") + "/") for w in written if w)

    selected = {match["model"]: catalog.load(name) or {} for name in sorted(inputs)
                for match in [_INFERENCE_PARAMS.match(name)] if match}
    checks.check_models(selected)  # first: a missing checkpoint is the most basic mistake
    for name in sorted(inputs - {"raw_volumes"}):
        dataset = catalog.get(name)
        location = dataset_location(dataset)
        if location and not made_here(location) and not isinstance(dataset, OptionalDataset):
            checks.check_input_exists(name, location, dataset.exists(), parameters_of,
                                      _pipeline_writing(name))
            if isinstance(dataset, CTSpatialVQADataset):
                checks.check_companions(name, dataset.companion_files(), parameters_of)
    plan = checks.RunPlan(split=split)
    qa_source = next((n for n in ("benchmark_qa", "qa_candidates") if n in inputs), None)
    if qa_source is None and "benchmark_qa" in catalog and catalog.get("benchmark_qa").exists():
        qa_source = "benchmark_qa"
    items = catalog.get(qa_source).load() if qa_source else None
    if items is not None:
        keys = plan.count_qa(items, _volume_path_prefix(params))
        if "raw_volumes" in inputs:
            raw = catalog.get("raw_volumes")
            checks.check_volumes(keys, dataset_location(raw) or "",
                                 getattr(raw, "_filename_suffix", ""),
                                 parameters_of.get("raw_volumes"))
    # a volume's questions are decoded together: the most on one volume bounds the batch
    per_volume = max(Counter(keys).values()) if items else None
    plan.memory = checks.memory_lines(params, selected, per_volume)
    plan.models = sorted(selected)
    if "params:judging" in inputs:
        keys_of = catalog.load("llm_api_keys") if "llm_api_keys" in catalog else {}
        judging = catalog.load("params:judging")
        plan.judges = checks.judge_lines(judging, keys_of)
        predictions = catalog.get("prediction_files") if "prediction_files" in inputs else None
        if predictions is not None and not made_here(dataset_location(predictions)):
            plan.models = sorted(predictions.load())  # a judging run: what is on disk
            if judging.get("dry_run") and items is not None:
                _price_judging_and_stop(items, catalog, judging, keys_of, plan)
    return plan


def _volume_path_prefix(params: dict[str, Any]) -> str:
    return (params.get("preprocessing") or {}).get("volume_path_prefix") or ""


def _pipeline_writing(dataset: str) -> str | None:
    """The smallest registered pipeline that writes ``dataset`` (for the hint of a missing one)."""
    from kedro.framework.project import pipelines

    writers = [(len(p.nodes), name) for name, p in pipelines.items()
               if name != "__default__" and dataset in p.all_outputs()]
    return min(writers)[1] if writers else None


def _price_judging_and_stop(items: list, catalog: Any, judging: dict, keys_of: Any,
                            plan: RunPlan) -> None:
    """A judging dry run over predictions already on disk: print the plan and the price, then
    stop before any node (a PlannedStop: exit 0, nothing written)."""
    from ct_spatial_bench.pipelines.judging.nodes import judge_all, pool_prediction_files

    print(plan.render())  # noqa: T201 - the stop below skips the hook's own printing
    pooled = pool_prediction_files(items, catalog.get("prediction_files").load())
    judge_all(items, pooled, judging, keys_of)  # raises DryRunStop once the plan is printed


class PreflightHook:
    """Runs ``preflight`` before the first node and prints the plan; stops the run on a problem.
    Where the run makes its own QA, the plan cannot count it: once ``benchmark_qa`` is saved,
    the console says how many items and volumes it has and how many answers the judges get."""

    def __init__(self) -> None:
        self._params: dict[str, Any] = {}
        self._split = "sanity"
        self._uncounted: RunPlan | None = None  # the plan, while the run has yet to make its QA

    @hook_impl
    def after_context_created(self, context: Any) -> None:
        self._params = dict(context.params)
        self._split = run_globals(context)["split"]

    @hook_impl
    def before_pipeline_run(self, run_params: dict[str, Any], pipeline: Any, catalog: Any) -> None:
        plan = preflight(self._params, pipeline, catalog, self._split)
        if plan.items is not None or plan.models:
            print(plan.render())  # noqa: T201 - read before the run spends anything
        self._uncounted = (plan if plan.items is None and "benchmark_qa" in pipeline.all_outputs()
                           else None)

    @hook_impl
    def after_dataset_saved(self, dataset_name: str, data: Any) -> None:
        if dataset_name != "benchmark_qa" or self._uncounted is None:
            return
        plan, self._uncounted = self._uncounted, None
        plan.count_qa(data, _volume_path_prefix(self._params))
        _CONSOLE.info("%s", plan.qa_made_line())


class ArtifactStampHook:
    """Stamps each saved file with its split and QA fingerprint; refuses a file stamped by another.

    The fingerprint is the benchmark QA's (``benchmark_qa``) as found when the run starts, or as
    the run itself writes it, and only what the run makes from the QA carries it (the sanity
    split's raw data, made before its QA, carries none). Folders (a partitioned dataset) are checked file by file. Only the
    environment's own outputs (under its run_root) are stamped and checked: source data read
    from elsewhere (a CT-RATE download, the rehearsal tree) is not the run's to judge.
    """

    def __init__(self) -> None:
        self._split = "sanity"
        self._root = Path("data").resolve()
        self._fingerprint: str | None = None
        self._catalog: Any = None
        self._made_from_qa: set[str] | None = None  # None: everything (no pipeline known)

    @property
    def fingerprint(self) -> str | None:
        return self._fingerprint

    @hook_impl
    def after_context_created(self, context: Any) -> None:
        found = run_globals(context)
        self._split = found["split"]
        self._root = (Path(context.project_path) / found["run_root"]).resolve()

    @hook_impl
    def before_pipeline_run(self, run_params: dict[str, Any], pipeline: Any, catalog: Any) -> None:
        self._catalog, self._fingerprint = catalog, None
        self._made_from_qa = None
        if pipeline is not None:
            self._made_from_qa = {"benchmark_qa"}
            if "benchmark_qa" in pipeline.datasets():
                self._made_from_qa |= pipeline.from_inputs("benchmark_qa").all_outputs()
        if "benchmark_qa" in catalog:
            dataset = catalog.get("benchmark_qa")
            if dataset.exists():
                self._fingerprint = stamps.qa_fingerprint(dataset.load())

    @hook_impl
    def before_dataset_loaded(self, dataset_name: str, node: Any) -> None:
        location = self._location(dataset_name)
        if location:
            stamps.check_same_qa_set(location, self._split, self._fingerprint, dataset_name)

    @hook_impl
    def after_dataset_saved(self, dataset_name: str, data: Any, node: Any) -> None:
        if dataset_name == "benchmark_qa":
            self._fingerprint = stamps.qa_fingerprint(data)
        location = self._location(dataset_name, data)
        if location and Path(location).is_file():
            from_qa = self._made_from_qa is None or dataset_name in self._made_from_qa
            stamps.write_stamp(location, self._split, self._fingerprint if from_qa else None,
                               dataset_name)

    def _location(self, dataset_name: str, data: Any = None) -> str | None:
        from ct_spatial_bench.datasets.predictions_dataset import PredictionsDataset

        if self._catalog is None or dataset_name not in self._catalog:
            return None
        dataset = self._catalog.get(dataset_name)
        if data is not None and isinstance(dataset, PredictionsDataset):
            location = dataset.location_of(data)
        else:
            location = dataset_location(dataset)
        if not location or self._root not in Path(location).resolve().parents:
            return None
        return location
