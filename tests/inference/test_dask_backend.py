"""The Dask backend gives the local path's predictions, loading the model once per worker.

Clusters here are LocalClusters on 127.0.0.1 with in-process workers (no network, no spawn)."""

from __future__ import annotations

from functools import partial

import numpy as np
import pytest

pytest.importorskip("distributed", reason="the Dask backend needs dask[distributed] ([cluster])")

from ct_spatial_bench.inference.backends.dask_cluster import run_on_dask  # noqa: E402
from ct_spatial_bench.models.base import Answer, ModelAdapter  # noqa: E402
from ct_spatial_bench.inference.settings import InferenceSettings  # noqa: E402
from ct_spatial_bench.inference.loop import run_model  # noqa: E402

RUN_FIELDS = {"timestamp", "latency_s"}
LOCAL_CLUSTER = {"cluster": {"type": "local", "n_workers": 2, "threads_per_worker": 1,
                             "processes": False}}


class CountingAdapter(ModelAdapter):
    """Answers from the image (its mean, rounded) and the question; counts its loads."""

    name = "counting"
    input_spec = "ras_hu"
    loads: list[int] = []

    def load(self, config):
        CountingAdapter.loads.append(id(self))

    def answer_one(self, image, question):
        return Answer(f"{question.text}: {float(np.asarray(image).mean()):.1f}", question.text)

    def describe(self):
        return {"model_revision": "test", "generation": {"greedy": True}}


def _load_volume(value: int):
    return np.full((4, 4, 4), value, dtype=np.int16)


def _strip(rows):
    return [{k: v for k, v in row.items() if k not in RUN_FIELDS} for row in rows]


@pytest.mark.slow
def test_dask_equals_local_and_loads_once_per_worker(tmp_path):
    items = [{"qa_id": f"v{v}::{q}", "image_path": f"v{v}.nii.gz", "question": f"q{q}"}
             for v in range(9) for q in range(3)]
    inputs = {f"v{v}": partial(_load_volume, v * 10) for v in range(9)}
    config = {}
    local = CountingAdapter()
    local.load(config)
    expected = run_model(local, items, lambda path: inputs[path[:-7]](), config, progress=False)
    CountingAdapter.loads.clear()

    settings = InferenceSettings(model="counting", dask={**LOCAL_CLUSTER, "tasks": 5})
    got = run_on_dask(settings, items, inputs, config, CountingAdapter, str(tmp_path / "ck.jsonl"))
    assert _strip(got) == _strip(expected)
    assert 1 <= len(CountingAdapter.loads) <= 2  # five tasks, at most one load per worker
    assert len(list(tmp_path.glob("ck.shard-*-of-5.jsonl"))) == 5  # a checkpoint per task


@pytest.mark.slow
def test_the_inference_node_on_dask_equals_the_local_node():
    from ct_spatial_bench.pipelines.inference.nodes import answer_questions

    items = [{"qa_id": f"c{i % 4}::{i}", "case_id": f"c{i % 4}", "image_path": "",
              "question": f"Is the nodule in the {side} lung?", "answer": side,
              "categories": [], "source": "", "meta": {}}
             for i, side in enumerate(["left", "right", "left", "left", "right", "left"] * 2)]
    local = answer_questions(items, {"model": "blind"})
    on_dask = answer_questions(items, {"model": "blind", "backend": "dask",
                                       "dask": LOCAL_CLUSTER})
    assert _strip(on_dask) == _strip(local)
