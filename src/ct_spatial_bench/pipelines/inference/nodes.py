"""Nodes that run one model under test over the benchmark's questions."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

logger = logging.getLogger(__name__)


def answer_questions(
    qa_items: list[dict[str, Any]],
    params: dict[str, Any],
    model_inputs: dict[str, Callable[[], Any]] | None = None,
    blind: bool = False,
    answer_prior: list[dict[str, Any]] | None = None,
) -> list[dict[str, Any]]:
    """Ask the model every question and return one prediction per QA item.

    ``params``: ``model`` (registry name), ``batch_size``, ``checkpoint`` (a JSONL path that keeps
    finished predictions, so a killed run resumes), ``volume_path_prefix``, ``max_items`` (a debug
    cap), ``config`` (passed to the adapter's ``load``), ``runtime.python`` (run the model in that
    interpreter through ``models.worker``), ``blind_mode`` (``zero`` or ``withhold``).
    ``blind``: the model's blind control (same prompt, image blanked), named ``<model>_blind``.
    ``answer_prior``: QA items whose answers an adapter that answers from a prior learns
    (the blind baseline; the catalog's ``blind_answer_prior``), passed on as ``config``.
    ``shard_index`` / ``num_shards`` answer only shard i of N (a volume's questions stay
    together, ``shard_by: volume``, or ``qa_id``) with a checkpoint of its own, returned as a
    ``PredictionPart`` that the predictions dataset writes as a part for ``merge_<model>``;
    ``backend: dask`` runs the shards on a Dask cluster (``models.dask_backend``).
    """
    from ct_spatial_bench.models.registry import check_configured
    from ct_spatial_bench.models.runner import image_loader, run_model
    from ct_spatial_bench.models.sharding import asked_items, select_shard, shard_checkpoint

    config = dict(params.get("config") or {})
    check_configured(params["model"], config)
    adapter = _make_adapter(params, blind)
    config.setdefault("batch_size", params.get("batch_size", 8))
    if answer_prior is not None:
        config["answer_prior"] = [
            {key: i.get(key) for key in ("qa_id", "case_id", "question", "answer")}
            for i in answer_prior
        ]
    items = asked_items(qa_items, params.get("max_items"))
    index, num_shards = int(params.get("shard_index", 0)), int(params.get("num_shards", 1))
    items = select_shard(items, index, num_shards, params.get("shard_by", "volume"))
    checkpoint = shard_checkpoint(_checkpoint(params.get("checkpoint"), blind), index, num_shards)
    if params.get("backend", "local") == "dask":  # shards on a Dask cluster
        from functools import partial

        from ct_spatial_bench.models.dask_backend import run_on_dask

        make_adapter = partial(_make_adapter, params, blind)  # loaded once per worker
        predictions = run_on_dask(params, items, model_inputs, config, make_adapter, checkpoint)
        return _as_part(predictions, index, num_shards, adapter.name)
    adapter.load(config)

    if adapter.input_spec is not None and model_inputs is None:
        raise ValueError(f"{adapter.name} reads {adapter.input_spec!r} inputs but got none")
    load_image = image_loader(adapter.input_spec, model_inputs,
                              params.get("volume_path_prefix", ""))

    try:
        predictions = run_model(adapter, items, load_image, config, checkpoint=checkpoint)
    finally:
        getattr(getattr(adapter, "inner", adapter), "close", lambda: None)()
    return _as_part(predictions, index, num_shards, adapter.name)


def _as_part(predictions: list[dict[str, Any]], index: int, num_shards: int,
             name: str) -> list[dict[str, Any]]:
    """The predictions, as a ``PredictionPart`` when this run is one shard of several."""
    from ct_spatial_bench.models.sharding import PredictionPart

    errors = sum(p["status"] == "error" for p in predictions)
    where = f" (shard {index} of {num_shards})" if num_shards > 1 else ""
    logger.info("%s%s: %d predictions, %d errors", name, where, len(predictions), errors)
    return PredictionPart(predictions, index, num_shards) if num_shards > 1 else predictions


def _make_adapter(params: dict[str, Any], blind: bool) -> Any:
    """The registered adapter, in this interpreter or in ``runtime.python``; blind if asked."""
    from ct_spatial_bench.models.blind_control import BlindControl
    from ct_spatial_bench.models.registry import MODEL_REGISTRY, create_adapter
    from ct_spatial_bench.models.remote import RemoteAdapter

    name = params["model"]
    python = (params.get("runtime") or {}).get("python")
    if python:
        env = {str(k): str(v) for k, v in ((params.get("runtime") or {}).get("env") or {}).items()}
        adapter = RemoteAdapter(name, MODEL_REGISTRY[name].input_spec, python, env=env)
    else:
        adapter = create_adapter(name)
    return BlindControl(adapter, params.get("blind_mode", "zero")) if blind else adapter


def _checkpoint(path: str | None, blind: bool) -> str | None:
    """A blind run keeps its own checkpoint beside the model's (``x.jsonl`` -> ``x_blind.jsonl``)."""
    if not path or not blind:
        return path
    from pathlib import Path

    from ct_spatial_bench.models.blind_control import BLIND_SUFFIX

    checkpoint = Path(path)
    return str(checkpoint.with_name(checkpoint.stem + BLIND_SUFFIX + checkpoint.suffix))
