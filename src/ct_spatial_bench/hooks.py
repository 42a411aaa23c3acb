"""Kedro hooks: a preflight before any node, a stamp on every artifact, and a provenance manifest.

Every output lives under the environment's ``run_root`` (conf/<env>/globals.yml: ``data`` for the
sanity split, ``data/full`` for the full split). Each file a run writes gets a stamp with its split
and the QA set's fingerprint; reading a file stamped by another QA set or split is an error.

``<run_root>/08_reporting/manifests/<run_id>.json`` (and a copy as ``manifest.json``, the latest run)
records the git commit, the resolved parameters with secrets removed, package versions, checksums
of the pipeline's inputs, the model revisions and decoding settings found in the predictions, and
the judge models and prompt versions found in the verdicts. A failed run writes one too, with its
error, so a half-finished result can still be traced. Writing the manifest never breaks a run: a
problem there is logged and the run goes on.
"""

from __future__ import annotations

import json
import logging
import os
import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from kedro.framework.hooks import hook_impl

from ct_spatial_bench import provenance, stamps

logger = logging.getLogger(__name__)

MANIFEST_DIR = Path("08_reporting") / "manifests"  # under the environment's run_root


def run_globals(context: Any) -> dict[str, Any]:
    """``run_root`` and ``split`` of the environment (conf/<env>/globals.yml)."""
    found = dict(context.config_loader["globals"] or {})
    return {"run_root": str(found.get("run_root", "data")),
            "split": str(found.get("split", context.env or "sanity"))}


def _dataset_location(dataset: Any) -> str | None:
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


_INFERENCE_PARAMS = re.compile(r"^params:(?P<model>[^.]+)\.inference$")


def preflight(params: dict[str, Any], pipeline: Any, catalog: Any, split: str) -> Any:
    """Check what ``pipeline`` needs before any node runs; the plan, or a ConfigurationError.

    Inputs no stage of the run writes must exist (``preflight.parameters_of`` names the runtime
    parameter that moves each); every volume the QA names must resolve; each selected model must
    be configured; each judge needs its key, or the fallback that applies is said.
    """
    from ct_spatial_bench import preflight as checks
    from ct_spatial_bench.datasets.optional_dataset import OptionalDataset
    from ct_spatial_bench.records import volume_key

    parameters_of = (params.get("preflight") or {}).get("parameters_of") or {}
    inputs = {name for name in pipeline.inputs() if name in catalog}
    # what the run writes, under any name (the full split's blind prior is its benchmark QA;
    # the judging's prediction folder is where inference writes)
    written = {_dataset_location(catalog.get(name)) for name in pipeline.all_outputs()
               if name in catalog}
    for name in sorted(inputs - {"raw_volumes"}):
        dataset = catalog.get(name)
        location = _dataset_location(dataset)
        if not location or isinstance(dataset, OptionalDataset):
            continue
        if not any(w == location or w.startswith(location.rstrip("/") + "/")
                   for w in written if w):  # neither the file nor a file in the folder
            checks.check_input_exists(name, location, dataset.exists(), parameters_of)
    plan = checks.RunPlan(split=split)
    qa_source = next((n for n in ("benchmark_qa", "qa_candidates") if n in inputs), None)
    if qa_source is None and "benchmark_qa" in catalog and catalog.get("benchmark_qa").exists():
        qa_source = "benchmark_qa"
    items = catalog.get(qa_source).load() if qa_source else None
    if items is not None:
        plan.items = len(items)
        prefix = (params.get("preprocessing") or {}).get("volume_path_prefix") or ""
        keys = [volume_key(item["image_path"], prefix) for item in items]
        plan.volumes = len(set(keys))
        if "raw_volumes" in inputs:
            raw = catalog.get("raw_volumes")
            checks.check_volumes(keys, _dataset_location(raw) or "",
                                 getattr(raw, "_filename_suffix", ""),
                                 parameters_of.get("raw_volumes"))
    selected = {match["model"]: catalog.load(name) or {} for name in sorted(inputs)
                for match in [_INFERENCE_PARAMS.match(name)] if match}
    checks.check_models(selected)
    plan.models = sorted(selected)
    if "params:judging" in inputs:
        keys_of = catalog.load("llm_api_keys") if "llm_api_keys" in catalog else {}
        judging = catalog.load("params:judging")
        plan.judges = checks.judge_lines(judging, keys_of)
        if "prediction_files" in inputs:
            plan.models = sorted(catalog.get("prediction_files").load())
            if judging.get("dry_run") and items is not None:
                _price_judging_and_stop(items, catalog, judging, keys_of, plan)
    return plan


def _price_judging_and_stop(items: list, catalog: Any, judging: dict, keys_of: Any,
                            plan: Any) -> None:
    """A judging dry run over predictions already on disk: print the plan and the price, then
    stop before any node (a PlannedStop: exit 0, nothing written)."""
    from ct_spatial_bench.pipelines.judging.nodes import judge_all, pool_prediction_files

    print(plan.render())  # noqa: T201 - the stop below skips the hook's own printing
    pooled = pool_prediction_files(catalog.get("prediction_files").load())
    judge_all(items, pooled, judging, keys_of)  # raises DryRunStop once the plan is printed


class PreflightHook:
    """Runs ``preflight`` before the first node and prints the plan; stops the run on a problem."""

    def __init__(self) -> None:
        self._params: dict[str, Any] = {}
        self._split = "sanity"

    @hook_impl
    def after_context_created(self, context: Any) -> None:
        self._params = dict(context.params)
        self._split = run_globals(context)["split"]

    @hook_impl
    def before_pipeline_run(self, run_params: dict[str, Any], pipeline: Any, catalog: Any) -> None:
        plan = preflight(self._params, pipeline, catalog, self._split)
        if plan.items is not None or plan.models:
            print(plan.render())  # noqa: T201 - read before the run spends anything


class ArtifactStampHook:
    """Stamps each saved file with its split and QA fingerprint; refuses a file stamped by another.

    The fingerprint is the benchmark QA's (``benchmark_qa``) as found when the run starts, or as
    the run itself writes it. Folders (a partitioned dataset) are checked file by file. Only the
    environment's own outputs (under its run_root) are stamped and checked: source data read
    from elsewhere (a CT-RATE download, the rehearsal tree) is not the run's to judge.
    """

    def __init__(self) -> None:
        self._split = "sanity"
        self._root = Path("data").resolve()
        self._fingerprint: str | None = None
        self._catalog: Any = None

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
            stamps.write_stamp(location, self._split, self._fingerprint, dataset_name)

    def _location(self, dataset_name: str, data: Any = None) -> str | None:
        from ct_spatial_bench.datasets.predictions_dataset import PredictionsDataset

        if self._catalog is None or dataset_name not in self._catalog:
            return None
        dataset = self._catalog.get(dataset_name)
        if data is not None and isinstance(dataset, PredictionsDataset):
            location = dataset.location_of(data)
        else:
            location = _dataset_location(dataset)
        if not location or self._root not in Path(location).resolve().parents:
            return None
        return location


class ProvenanceHook:
    """Collects what a run used and writes it as a JSON manifest when the run ends."""

    def __init__(self, manifest_dir: str | os.PathLike | None = None,
                 artifact_stamps: ArtifactStampHook | None = None) -> None:
        self._manifest_dir = manifest_dir
        self._artifact_stamps = artifact_stamps  # where the QA fingerprint comes from
        self._params: dict[str, Any] = {}
        self._project_path: Path = Path.cwd()
        self._inputs: dict[str, Any] = {}
        self._facts: dict[str, set] = {}
        self._started: str = ""
        self._globals: dict[str, Any] = {"run_root": "data", "split": "sanity"}

    @hook_impl
    def after_context_created(self, context: Any) -> None:
        self._project_path = Path(context.project_path)
        self._globals = run_globals(context)
        try:
            self._params = dict(context.params)
        except Exception as exc:  # noqa: BLE001
            logger.warning("provenance: parameters not recorded (%s)", exc)
            self._params = {}

    @hook_impl
    def before_pipeline_run(self, run_params: dict[str, Any], pipeline: Any, catalog: Any) -> None:
        self._started = datetime.now(timezone.utc).isoformat(timespec="seconds")
        self._facts = {}
        self._inputs = {}
        for name in sorted(pipeline.inputs()):
            if name.startswith("params:") or name == "parameters":
                continue
            try:
                dataset = catalog.get(name)
                location = _dataset_location(dataset) if dataset is not None else None
                self._inputs[name] = provenance.fingerprint(location) if location else None
            except Exception as exc:  # noqa: BLE001
                self._inputs[name] = {"error": str(exc)}

    @hook_impl
    def after_node_run(self, node: Any, catalog: Any, inputs: dict[str, Any],
                       outputs: dict[str, Any], is_async: bool, run_id: str) -> None:
        for value in [*inputs.values(), *outputs.values()]:
            provenance.collect_runtime_facts(value, self._facts)

    @hook_impl
    def after_pipeline_run(self, run_params: dict[str, Any], run_result: Any, pipeline: Any,
                           catalog: Any) -> None:
        self._write(run_params, pipeline, status="completed")

    @hook_impl
    def on_pipeline_error(self, error: Exception, run_params: dict[str, Any], pipeline: Any,
                          catalog: Any) -> None:
        self._write(run_params, pipeline, status="failed", error=repr(error))

    def manifest(self, run_params: dict[str, Any], pipeline: Any, status: str,
                 error: str | None = None) -> dict[str, Any]:
        run_info = {k: run_params.get(k) for k in (
            "run_id", "env", "pipeline_names", "tags", "node_names", "from_nodes", "to_nodes",
            "runtime_params", "runner", "kedro_version")}
        # Kedro passes the runner instance's repr; keep its class, not its memory address.
        run_info["runner"] = re.sub(r"^<([\w.]+) object at 0x[0-9a-f]+>$", r"\1",
                                    str(run_info["runner"]))
        return {
            "run": provenance.redact(run_info),
            "split": self._globals["split"],
            "run_root": self._globals["run_root"],
            "qa_fingerprint": self._artifact_stamps.fingerprint if self._artifact_stamps else None,
            "status": status,
            "error": error,
            "started": self._started,
            "finished": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "command": provenance.command_line(),
            "git": provenance.git_state(self._project_path),
            "parameters": provenance.redact(self._params),
            "packages": provenance.package_versions(),
            "inputs": self._inputs,
            "outputs": sorted(pipeline.all_outputs()) if pipeline is not None else [],
            **provenance.facts_as_rows(self._facts),
        }

    def _write(self, run_params: dict[str, Any], pipeline: Any, status: str,
               error: str | None = None) -> None:
        try:
            manifest = self.manifest(run_params, pipeline, status, error)
            folder = Path(self._manifest_dir or self._project_path / self._globals["run_root"]
                          / MANIFEST_DIR)
            folder.mkdir(parents=True, exist_ok=True)
            text = json.dumps(manifest, indent=2, sort_keys=False, default=str)
            run_id = str(run_params.get("run_id") or "run").replace(":", "-")
            (folder / f"{run_id}.json").write_text(text, encoding="utf-8")
            (folder.parent / "manifest.json").write_text(text, encoding="utf-8")
            logger.info("provenance manifest written to %s", folder / f"{run_id}.json")
        except Exception as exc:  # noqa: BLE001 - provenance must never fail the run
            logger.warning("provenance manifest not written: %s", exc)
