"""Run a model's questions on a Dask cluster: a running scheduler, a local cluster, or SLURM jobs.

The engine (``inference.engine.run_inference``) hands its questions here when ``backend: dask``.
The questions are split into tasks by volume (``sharding``), each task runs the ordinary
checkpointed ``run_model`` on a worker, and the results are joined by ``qa_id``. Each worker loads
the model once and keeps it for every task it is given (a worker-local cache keyed by the worker
and the model's configuration), so a GPU worker pays the load once, not once per task. Each task
keeps its own checkpoint, so a rerun resumes task by task.

Cluster settings (``<model>.inference.dask``):

- ``scheduler_address``: ``tcp://host:8786`` of a cluster that is already running; or
- ``cluster``: ``{type: local, n_workers, threads_per_worker, processes}`` (bound to 127.0.0.1;
  ``processes: false`` keeps the workers in this process, talking over ``inproc://``),
  or ``{type: slurm, jobs: N, ...}`` whose other keys go to ``dask_jobqueue.SLURMCluster``
  (``cores``, ``memory``, ``walltime``, ``job_extra_directives: ["--gres=gpu:1"]``, ...);
- ``tasks``: how many tasks to split the questions into (default: two per worker).
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from typing import Any

from ct_spatial_bench.inference.settings import InferenceSettings

logger = logging.getLogger(__name__)

_WORKER_ADAPTERS: dict[tuple[str, str], Any] = {}
_LOCK = threading.Lock()


def run_on_dask(settings: InferenceSettings, items: list[dict[str, Any]],
                model_inputs: dict[str, Callable[[], Any]] | None, config: dict[str, Any],
                make_adapter: Callable[[], Any], checkpoint: str | None, *,
                adapter: Any = None) -> list[dict[str, Any]]:
    """Answer ``items`` on the cluster ``settings.dask`` describes; predictions in item order.
    Each worker makes and loads its own adapter with ``make_adapter``; the engine's ``adapter``
    stays unloaded here."""
    from ct_spatial_bench.sharding import (
        merge_parts,
        part_name,
        select_shard,
        shard_checkpoint,
    )

    client, close = connect(settings.dask)
    try:
        workers = max(1, len(client.scheduler_info().get("workers", {})))
        n_tasks = max(1, min(int(settings.dask.get("tasks") or 2 * workers), len(items) or 1))
        prefix = settings.volume_path_prefix
        futures = {}
        for index in range(n_tasks):
            chunk = select_shard(items, index, n_tasks, settings.shard_by)
            if not chunk:
                continue
            futures[part_name(index, n_tasks)] = client.submit(
                run_task, chunk, _inputs_for(chunk, model_inputs, prefix), config, make_adapter,
                prefix, shard_checkpoint(checkpoint, index, n_tasks), pure=False)
        logger.info("dask: %d questions in %d tasks on %d workers", len(items), len(futures),
                    workers)
        parts = dict(zip(futures, client.gather(list(futures.values()))))
    finally:
        close()
    return merge_parts(parts, [item["qa_id"] for item in items], n_tasks) if parts else []


def connect(settings: dict[str, Any]) -> tuple[Any, Callable[[], None]]:
    """A client for the configured cluster, and what to call to let it go."""
    from distributed import Client

    if settings.get("scheduler_address"):
        client = Client(settings["scheduler_address"])
        return client, client.close
    cluster_settings = dict(settings.get("cluster") or {"type": "local"})
    kind = cluster_settings.pop("type", "local")
    if kind == "local":
        from distributed import LocalCluster

        if cluster_settings.get("processes", True):  # in-process workers talk inproc://
            cluster_settings.setdefault("host", "127.0.0.1")
        cluster_settings.setdefault("dashboard_address", None)
        cluster = LocalCluster(**cluster_settings)
    elif kind == "slurm":
        from dask_jobqueue import SLURMCluster

        jobs = int(cluster_settings.pop("jobs", 1))
        cluster = SLURMCluster(**cluster_settings)
        cluster.scale(jobs=jobs)
    else:
        raise ValueError(f"dask.cluster.type must be 'local' or 'slurm', got {kind!r}")
    client = Client(cluster)
    if kind == "slurm":
        client.wait_for_workers(1)

    def close() -> None:
        client.close()
        cluster.close()

    return client, close


def run_task(items: list[dict[str, Any]], model_inputs: dict[str, Callable[[], Any]] | None,
             config: dict[str, Any], make_adapter: Callable[[], Any], prefix: str,
             checkpoint: str | None) -> list[dict[str, Any]]:
    """One task on a worker: the worker's own loaded adapter over ``items``, checkpointed."""
    from ct_spatial_bench.inference.loop import image_loader, run_model

    adapter = worker_adapter(make_adapter, config)
    load_image = image_loader(adapter.input_spec, model_inputs or {}, prefix)

    return run_model(adapter, items, load_image, config, checkpoint=checkpoint, progress=False)


def worker_adapter(make_adapter: Callable[[], Any], config: dict[str, Any]) -> Any:
    """This worker's adapter for ``config``, made and loaded on first use only."""
    from distributed import get_worker

    key = (get_worker().address, json.dumps(config, sort_keys=True, default=str))
    with _LOCK:  # threads of one worker must not load the model twice
        if key not in _WORKER_ADAPTERS:
            adapter = make_adapter()
            adapter.load(config)
            _WORKER_ADAPTERS[key] = adapter
        return _WORKER_ADAPTERS[key]


def _inputs_for(items: list[dict[str, Any]], model_inputs: dict[str, Callable[[], Any]] | None,
                prefix: str) -> dict[str, Callable[[], Any]] | None:
    """Only the loaders a task needs travel to its worker."""
    from ct_spatial_bench.records import volume_key

    if model_inputs is None:
        return None
    keys = {volume_key(item["image_path"], prefix) for item in items if item.get("image_path")}
    return {key: model_inputs[key] for key in keys if key in model_inputs}
