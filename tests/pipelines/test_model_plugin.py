"""One declaration per model: an adapter class in a module outside the package, named in
``CT_SPATIAL_BENCH_MODELS``, plus one block in ``parameters_inference.yml`` holding only what
differs (its ``config``, its ``resources``; ``model`` and ``checkpoint`` derive from the name), and
``kedro run --pipelines inference_<it>`` runs (its catalog entries come from the factories);
a model whose calls fail makes that run exit non-zero."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from support.project import make_scratch_project

PLUGIN = '''
from ct_spatial_bench.models.base import Answer, ModelAdapter


class VoxelCounter(ModelAdapter):
    name = "voxel_counter"
    input_spec = "ras_hu"
    description = "Says how many voxels the volume has."

    def load(self, config):
        self.unit = config["unit"]

    def answer_one(self, image, question):
        return Answer(f"{image.shape[0] * image.shape[1] * image.shape[2]} {self.unit}",
                      question.text)


class Unreachable(ModelAdapter):
    name = "unreachable"
    description = "A model server that never answers."

    def answer_one(self, image, question):
        raise ConnectionError("HTTP 503 from the model server")
'''
CONF_BLOCK = '''
voxel_counter:
  inference:
    config: {unit: voxels}
unreachable:
  resources: {gpus: 0, cpus: 1, mem: 1G, time: "00:10:00", num_shards: 1}
'''


def _kedro(root: Path, env: dict, *args: str, ok: bool = True) -> str:
    done = subprocess.run([sys.executable, "-m", "kedro", "run", *args], cwd=root, env=env,
                          capture_output=True, text=True, timeout=900)
    assert (done.returncode == 0) == ok, done.stdout[-3000:] + done.stderr[-3000:]
    return done.stdout + done.stderr


@pytest.mark.slow
def test_a_model_from_a_module_and_one_conf_block_runs(tmp_path):
    (tmp_path / "project").mkdir()
    root = make_scratch_project(tmp_path / "project")
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "voxel_plugin.py").write_text(PLUGIN)
    with open(root / "conf/base/parameters_inference.yml", "a") as handle:
        handle.write(CONF_BLOCK)
    env = {**os.environ, "KEDRO_DISABLE_TELEMETRY": "1", "DO_NOT_TRACK": "1",
           "CT_SPATIAL_BENCH_MODELS": "voxel_plugin:VoxelCounter, voxel_plugin:Unreachable",
           "PYTHONPATH": os.pathsep.join(p for p in (str(plugins), os.environ.get("PYTHONPATH"))
                                         if p)}
    _kedro(root, env, "--pipelines", "sanity_data")
    _kedro(root, env, "--pipelines", "benchmark", "--nodes",
           "filter_spatial_questions,preprocess_volumes")
    _kedro(root, env, "--pipelines", "inference_voxel_counter")

    questions = [json.loads(line) for line in
                 (root / "data/03_primary/benchmark_qa.jsonl").read_text().splitlines()]
    rows = [json.loads(line) for line in (root / "data/07_model_output/predictions/"
                                          "voxel_counter.jsonl").read_text().splitlines()]
    assert [r["qa_id"] for r in rows] == [q["qa_id"] for q in questions]
    assert {r["status"] for r in rows} == {"ok"}
    assert all(r["prediction"].endswith(" voxels") and r["model"] == "voxel_counter"
               for r in rows)

    # infrastructure failures are not answers: the run exits non-zero, the errors checkpointed
    log = " ".join(_kedro(root, env, "--pipelines", "inference_unreachable", ok=False).split())
    assert "model calls failed" in log and "HTTP 503" in log
    assert not (root / "data/07_model_output/predictions/unreachable.jsonl").exists()
    kept = (root / "data/07_model_output/checkpoints/unreachable.jsonl").read_text().splitlines()
    assert {json.loads(line)["error_kind"] for line in kept} == {"infrastructure"}
