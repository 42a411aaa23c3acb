"""Kedro hooks: every run leaves a provenance manifest beside its outputs (the preflight and the
artifact stamps are in run_guards.py).

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

from ct_spatial_bench import provenance
from ct_spatial_bench.secrets import install_log_redaction, redact, redact_text
from ct_spatial_bench.run_guards import ArtifactStampHook, dataset_location, run_globals

logger = logging.getLogger(__name__)

MANIFEST_DIR = Path("08_reporting") / "manifests"  # under the environment's run_root


class SecretRedactionHook:
    """Every log record is redacted (``ct_spatial_bench.secrets``) once Kedro has set up logging,
    and again before the pipeline runs, for handlers added in between."""

    @hook_impl
    def after_context_created(self, context: Any) -> None:
        install_log_redaction()
        try:
            params = context.params
        except Exception:  # noqa: BLE001 - a broken config is reported by Kedro itself
            params = {}
        provenance.register_run_secrets(params)

    @hook_impl
    def before_pipeline_run(self, run_params: dict[str, Any], pipeline: Any, catalog: Any) -> None:
        install_log_redaction()


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
                location = dataset_location(dataset) if dataset is not None else None
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
        self._write(run_params, pipeline, status="failed", error=redact_text(repr(error)))

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
            manifest = redact(self.manifest(run_params, pipeline, status, error))
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
