"""The inference engine: one model's questions in, predictions out, whoever asks.

The inference node, the merge of shards, the probes and the Dask backend all go through here:
``InferenceSettings.from_params`` reads ``params:<model>.inference`` once (a clear error names the
parameter at fault), ``run_inference`` chooses the adapter (this interpreter, its own interpreter
through ``models.worker``, or its blind control), gives the blind baseline its prior, takes this
run's shard, names its checkpoint, runs locally or on Dask, and judges the failures: data errors
(unreadable or non-finite inputs) are listed by volume, infrastructure errors (failed model
calls) above ``max_infrastructure_error_share`` stop the run with ``InferenceFailed``.
No Kedro here.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from ct_spatial_bench.errors import ConfigurationError
from ct_spatial_bench.models.base import ModelAdapter

logger = logging.getLogger(__name__)


class InferenceConfigError(ConfigurationError, ValueError):
    """A parameter of ``<model>.inference`` that cannot be used; the message names it."""


class InferenceFailed(RuntimeError):
    """More model calls failed than the run allows; what was answered is in the checkpoint."""


@dataclass(frozen=True)
class InferenceSettings:
    """``params:<model>.inference``, parsed once (see conf/base/parameters_inference.yml)."""

    model: str
    checkpoint: str | None = None
    volume_path_prefix: str = ""
    max_items: int | None = None
    shard_index: int = 0
    num_shards: int = 1
    shard_by: str = "volume"
    backend: str = "local"
    dask: dict[str, Any] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)
    python: str | None = None  # runtime.python: run the model in that interpreter
    env: dict[str, str] = field(default_factory=dict)  # runtime.env for that interpreter
    blind_mode: str = "zero"
    # share of asked items whose model call may fail before the run stops (0: none may)
    max_infrastructure_error_share: float = 0.0

    @classmethod
    def from_params(cls, params: dict[str, Any], where: str | None = None) -> InferenceSettings:
        """Typed settings from the parameter block; ``where`` names it in errors
        (default ``<model>.inference``)."""
        if not isinstance(params, dict) or not params.get("model"):
            raise InferenceConfigError(f"{where or '<model>.inference'}.model is not set")
        where = where or f"{params['model']}.inference"
        runtime = _mapping(params, "runtime", where)
        known = {f.name for f in fields(cls)} | {"runtime", "batch_size", "resources"}
        unknown = sorted(set(params) - known)
        if unknown:  # a typo would otherwise be silently ignored
            logger.warning("%s: unknown parameter(s) %s ignored", where, unknown)
        settings = cls(
            model=str(params["model"]),
            checkpoint=_optional(params, "checkpoint", str, where),
            volume_path_prefix=str(params.get("volume_path_prefix") or ""),
            max_items=_optional(params, "max_items", int, where),
            shard_index=_number(params, "shard_index", int, 0, where),
            num_shards=_number(params, "num_shards", int, 1, where),
            shard_by=_choice(params, "shard_by", ("volume", "qa_id"), "volume", where),
            backend=_choice(params, "backend", ("local", "dask"), "local", where),
            dask=_mapping(params, "dask", where),
            config=_mapping(params, "config", where),
            python=_optional(runtime, "python", str, f"{where}.runtime"),
            env={str(k): str(v) for k, v in _mapping(runtime, "env", f"{where}.runtime").items()},
            blind_mode=_choice(params, "blind_mode", ("zero", "withhold"), "zero", where),
            max_infrastructure_error_share=_number(
                params, "max_infrastructure_error_share", float, 0.0, where),
        )
        if settings.num_shards < 1 or not 0 <= settings.shard_index < settings.num_shards:
            raise InferenceConfigError(
                f"{where}.shard_index must be in 0..num_shards-1 and num_shards >= 1; got shard "
                f"{settings.shard_index} of {settings.num_shards}")
        if not 0.0 <= settings.max_infrastructure_error_share <= 1.0:
            raise InferenceConfigError(f"{where}.max_infrastructure_error_share must be in "
                                       f"0..1, got {settings.max_infrastructure_error_share}")
        return settings

    def checkpoint_for(self, blind: bool) -> str | None:
        """This run's checkpoint: a blind control's sits beside the model's
        (``x.jsonl`` -> ``x_blind.jsonl``), a shard's has its part name."""
        from ct_spatial_bench.models.blind_control import BLIND_SUFFIX
        from ct_spatial_bench.models.sharding import shard_checkpoint

        path = self.checkpoint
        if path and blind:
            checkpoint = Path(path)
            path = str(checkpoint.with_name(checkpoint.stem + BLIND_SUFFIX + checkpoint.suffix))
        return shard_checkpoint(path, self.shard_index, self.num_shards)


def make_adapter(settings: InferenceSettings, blind: bool = False) -> ModelAdapter:
    """The registered adapter, in this interpreter or in ``runtime.python``; blind if asked."""
    from ct_spatial_bench.models.blind_control import BlindControl
    from ct_spatial_bench.models.registry import adapter_class
    from ct_spatial_bench.models.remote import RemoteAdapter

    cls = adapter_class(settings.model)
    if settings.python:
        adapter: ModelAdapter = RemoteAdapter(settings.model, cls.input_spec, settings.python,
                                              env=settings.env)
    else:
        adapter = cls()
    return BlindControl(adapter, settings.blind_mode) if blind else adapter


def run_inference(
    settings: InferenceSettings,
    items: list[dict[str, Any]],
    inputs: dict[str, Callable[[], Any]] | None = None,
    prior: list[dict[str, Any]] | None = None,
    blind: bool = False,
    checkpoint: str | None = None,
    raw_volumes: dict[str, Callable[[], Any]] | None = None,
) -> list[dict[str, Any]]:
    """Ask ``settings.model`` the asked items of this shard; one prediction per item, in order.

    ``inputs``: ``{volume key: load}`` of the model's input spec. ``prior``: QA items an adapter
    that answers from a prior learns from (``answer_prior`` adapters). ``checkpoint`` overrides
    the configured one (the probes keep one per variant). ``raw_volumes``: the source volumes;
    given, an input made from an older version of its volume stops the run before any answer
    (``imaging.freshness``). Each item carries its source volume's fingerprint, where the inputs
    record it, into its question fingerprint.
    """
    from ct_spatial_bench.models.registry import check_configured
    from ct_spatial_bench.models.runner import image_loader, run_model
    from ct_spatial_bench.models.sharding import asked_items, select_shard

    check_configured(settings.model, settings.config)
    config = dict(settings.config)
    if prior is not None:
        config["answer_prior"] = [{key: i.get(key) for key in ("qa_id", "case_id", "question",
                                                               "answer")} for i in prior]
    items = select_shard(asked_items(items, settings.max_items), settings.shard_index,
                         settings.num_shards, settings.shard_by)
    checkpoint = checkpoint or settings.checkpoint_for(blind)
    adapter = make_adapter(settings, blind)
    if adapter.input_spec is not None and inputs is None:
        raise ValueError(f"{adapter.name} reads {adapter.input_spec!r} inputs but got none")
    if adapter.input_spec is not None:
        items = _with_volume_fingerprints(settings, adapter.input_spec, items, inputs,
                                          raw_volumes)
    try:
        if settings.backend == "dask":  # each worker makes and loads its own adapter
            from functools import partial

            from ct_spatial_bench.models.dask_backend import run_on_dask

            predictions = run_on_dask(settings, items, inputs, config,
                                      partial(make_adapter, settings, blind), checkpoint)
        else:
            adapter.load(config)
            predictions = run_model(
                adapter, items,
                image_loader(adapter.input_spec, inputs, settings.volume_path_prefix),
                config, checkpoint=checkpoint)
    finally:
        adapter.close()
    check_failures(adapter.name, items, predictions, settings.max_infrastructure_error_share)
    return predictions


def _with_volume_fingerprints(settings: InferenceSettings, spec: str,
                              items: list[dict[str, Any]], inputs: Any,
                              raw_volumes: dict[str, Callable[[], Any]] | None
                              ) -> list[dict[str, Any]]:
    """``items``, each with the fingerprint of the source volume its input was made from, after
    checking (when ``raw_volumes`` is given) that no volume changed since."""
    from ct_spatial_bench.imaging.freshness import check_inputs_current, volume_fingerprints
    from ct_spatial_bench.records import volume_key

    key_of = {item["qa_id"]: volume_key(item.get("image_path") or "",
                                        settings.volume_path_prefix) for item in items}
    if raw_volumes is not None:
        check_inputs_current(settings.model, spec, inputs, raw_volumes, key_of.values())
    found = volume_fingerprints(inputs)
    return [{**item, "volume_fingerprint": found.get(key_of[item["qa_id"]])} for item in items]


def check_failures(model: str, items: list[dict[str, Any]], predictions: list[dict[str, Any]],
                   max_share: float) -> None:
    """Log data errors by volume; raise ``InferenceFailed`` when the share of failed model
    calls exceeds ``max_share``."""
    from ct_spatial_bench.records import DATA_ERROR, INFRASTRUCTURE_ERROR

    volume_of = {item["qa_id"]: item.get("image_path") or "" for item in items}
    data: dict[str, list[str]] = {}
    for row in predictions:
        if row.get("error_kind") == DATA_ERROR:
            data.setdefault(volume_of.get(row["qa_id"], ""), []).append(row["qa_id"])
    for volume, ids in sorted(data.items()):
        logger.warning("%s: %d question(s) on %s not asked: its input could not be used",
                       model, len(ids), volume)
    failed = [row for row in predictions if row.get("error_kind") == INFRASTRUCTURE_ERROR]
    if failed and len(failed) > max_share * len(predictions):
        raise InferenceFailed(
            f"{model}: {len(failed)} of {len(predictions)} model calls failed (allowed share "
            f"{max_share:g}, {model}.inference.max_infrastructure_error_share); first error: "
            f"{failed[0]['error']}. Answers made are checkpointed; a rerun asks only the rest.")


def _optional(params: dict[str, Any], key: str, kind: type, where: str) -> Any:
    value = params.get(key)
    if value is None or value == "":
        return None
    return _number({key: value}, key, kind, None, where)


def _number(params: dict[str, Any], key: str, kind: type, default: Any, where: str) -> Any:
    value = params.get(key, default)
    if value is None:
        return default
    try:
        if kind is int and isinstance(value, float) and not value.is_integer():
            raise ValueError
        return kind(value)
    except (TypeError, ValueError):
        raise InferenceConfigError(f"{where}.{key} must be {kind.__name__}, got {value!r}") \
            from None


def _choice(params: dict[str, Any], key: str, allowed: tuple[str, ...], default: str,
            where: str) -> str:
    value = params.get(key) or default
    if value not in allowed:
        raise InferenceConfigError(f"{where}.{key} must be one of {list(allowed)}, got {value!r}")
    return str(value)


def _mapping(params: dict[str, Any], key: str, where: str) -> dict[str, Any]:
    value = params.get(key) or {}
    if not isinstance(value, dict):
        raise InferenceConfigError(f"{where}.{key} must be a mapping, got {value!r}")
    return dict(value)
