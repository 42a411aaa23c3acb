"""A model's ``inference`` parameters, parsed once into ``InferenceSettings``: a clear error names
the parameter at fault (see conf/base/parameters_inference.yml). No Kedro here."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from typing import Any

from ct_spatial_bench.errors import ConfigurationError

logger = logging.getLogger(__name__)


DEFAULTS_KEY = "inference_defaults"  # the parameters every model's inference block starts from
BACKEND_NAMES = ("local", "dask")  # inference.engine.BACKENDS runs each


class InferenceConfigError(ConfigurationError, ValueError):
    """A parameter of ``<model>.inference`` that cannot be used; the message names it."""


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
            backend=_choice(params, "backend", BACKEND_NAMES, "local", where),
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


def with_model_blocks(parameters: dict[str, Any], models: Iterable[str]) -> dict[str, Any]:
    """``parameters`` with every model's ``<name>.inference`` block complete, so a model's own
    block holds only what differs (its ``config``, its ``resources``).

    Each block starts from ``inference_defaults``, then ``model: <name>`` and ``checkpoint``
    (``inference_defaults.checkpoint_dir/<name>.jsonl``), then what the model's block sets,
    which wins (``--params <name>.inference.<key>=...`` included).
    """
    defaults = dict(parameters.get(DEFAULTS_KEY) or {})
    checkpoint_dir = defaults.pop("checkpoint_dir", None)
    completed = dict(parameters)
    for name in models:
        block = dict(completed.get(name) or {})
        derived = {"model": name}
        if checkpoint_dir:
            derived["checkpoint"] = f"{checkpoint_dir}/{name}.jsonl"
        block["inference"] = {**defaults, **derived, **dict(block.get("inference") or {})}
        completed[name] = block
    return completed


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
