"""The inference engine: one model's questions in, predictions out, whoever asks.

The inference node, the merge of shards, the probes and the mask track all go through here, with
settings parsed once (``inference.settings``): ``run_inference`` chooses the adapter (this
interpreter, its own interpreter through ``backends.worker``, or its blind control), gives the
blind baseline its prior, takes this run's shard, names its checkpoint, runs the volume loop on
the configured backend (``BACKENDS``) and judges the failures (``answer_failures``: failed
model calls above ``max_infrastructure_error_share`` stop the run). Settings flow one way, down:
each step is a lower layer than the one before, so nothing is handed back up. No Kedro here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

from ct_spatial_bench.inference.backends.dask_cluster import run_on_dask
from ct_spatial_bench.inference.backends.local import run_local
from ct_spatial_bench.inference.settings import BACKEND_NAMES, InferenceSettings
from ct_spatial_bench.models.base import ModelAdapter
from ct_spatial_bench.records import Prediction, qa_item

# ``<model>.inference.backend`` -> where the volume loop runs; each is called
# ``(settings, items, inputs, config, make_adapter, checkpoint, adapter=...)``.
BACKENDS: dict[str, Callable[..., list[Prediction]]] = {"local": run_local, "dask": run_on_dask}
assert set(BACKENDS) == set(BACKEND_NAMES)


def make_adapter(settings: InferenceSettings, adapter_cls: type[ModelAdapter],
                 blind: bool = False) -> ModelAdapter:
    """An adapter of ``adapter_cls``, in this interpreter or in ``runtime.python``; blind if
    asked."""
    from ct_spatial_bench.inference.backends.worker import RemoteAdapter
    from ct_spatial_bench.inference.blind_control import BlindControl

    if settings.python:
        adapter: ModelAdapter = RemoteAdapter(settings.model, adapter_cls.input_spec,
                                              settings.python, env=settings.env)
    else:
        adapter = adapter_cls()
    return BlindControl(adapter, settings.blind_mode) if blind else adapter


def run_inference(
    settings: InferenceSettings,
    items: list[Mapping[str, Any]],
    inputs: dict[str, Callable[[], Any]] | None = None,
    prior: list[Mapping[str, Any]] | None = None,
    blind: bool = False,
    checkpoint: str | None = None,
    raw_volumes: dict[str, Callable[[], Any]] | None = None,
) -> list[Prediction]:
    """Ask ``settings.model`` the asked items of this shard; one prediction per item, in order.

    ``inputs``: ``{volume key: load}`` of the model's input spec. ``prior``: QA items an adapter
    that answers from a prior learns from (``answer_prior`` adapters). ``checkpoint`` overrides
    the configured one (the probes keep one per variant). ``raw_volumes``: the source volumes;
    given, an input made from an older version of its volume stops the run before any answer
    (``imaging.freshness``; every shard checks the whole question set, so all shards agree).
    Each item carries its source volume's fingerprint, where the inputs record it, into its
    question fingerprint.
    """
    from ct_spatial_bench.answer_failures import check_failures
    from ct_spatial_bench.imaging.freshness import with_volume_fingerprints
    from ct_spatial_bench.inference.blind_control import CHECKPOINT_SUFFIX
    from ct_spatial_bench.models.registry import check_configured
    from ct_spatial_bench.sharding import asked_items, select_shard, shard_checkpoint

    adapter_cls = check_configured(settings.model, settings.config)
    config = dict(settings.config)
    if prior is not None:  # config travels as JSON (to a worker process): rows at this edge
        config["answer_prior"] = [{key: i.get(key) for key in ("qa_id", "case_id", "question",
                                                               "answer")} for i in prior]
    remake = partial(make_adapter, settings, adapter_cls, blind)
    adapter = remake()
    if adapter.input_spec is not None and inputs is None:
        raise ValueError(f"{adapter.name} reads {adapter.input_spec!r} inputs but got none")
    items = [qa_item(item) for item in items]  # QA items, or a probe's or the mask track's rows
    if adapter.input_spec is not None:
        items = with_volume_fingerprints(settings.model, adapter.input_spec, items, inputs,
                                         raw_volumes, settings.volume_path_prefix)
    items = select_shard(asked_items(items, settings.max_items), settings.shard_index,
                         settings.num_shards, settings.shard_by)
    checkpoint = checkpoint or shard_checkpoint(settings.checkpoint, settings.shard_index,
                                                settings.num_shards,
                                                CHECKPOINT_SUFFIX if blind else "")
    try:
        predictions = BACKENDS[settings.backend](
            settings, items, inputs, config, remake, checkpoint, adapter=adapter)
    finally:
        adapter.close()
    check_failures(adapter.name, predictions, {item.qa_id: item.image_path for item in items},
                   settings.max_infrastructure_error_share)
    return predictions
