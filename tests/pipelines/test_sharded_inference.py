"""Acceptance (issue 8): ``inference_geometry`` as shard 0 of 2, then shard 1, then
``merge_geometry`` gives the same predictions as one unsharded run; a shard rerun resumes."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[2]
RUN_FIELDS = {"timestamp", "latency_s", "efficiency"}  # differ between any two runs


def kedro(root: Path, *args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "kedro", "run", *args], cwd=root,
                          capture_output=True, text=True, env=_env())
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done.stdout + done.stderr


def _env() -> dict:
    import os

    return {**os.environ, "KEDRO_DISABLE_TELEMETRY": "1", "DO_NOT_TRACK": "1"}


def _predictions(path: Path) -> list[dict]:
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    return [{k: v for k, v in row.items() if k not in RUN_FIELDS} for row in rows]


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    """A scratch copy of the project with the sanity split's questions and ras_hu inputs."""
    root = tmp_path_factory.mktemp("sharded")
    shutil.copy(PROJECT_ROOT / "pyproject.toml", root)
    shutil.copytree(PROJECT_ROOT / "conf", root / "conf", ignore=shutil.ignore_patterns("local"))
    (root / "conf" / "local").mkdir()
    (root / "src").mkdir()
    kedro(root, "--pipelines", "sanity_data")
    kedro(root, "--pipelines", "benchmark", "--nodes", "filter_spatial_questions,preprocess_volumes")
    return root


@pytest.mark.slow
def test_two_shards_and_a_merge_equal_one_run(project):
    predictions = project / "data/07_model_output/predictions/geometry.jsonl"
    kedro(project, "--pipelines", "inference_geometry")
    whole = _predictions(predictions)
    predictions.unlink()

    shard = "geometry.inference.shard_index={},geometry.inference.num_shards=2"
    kedro(project, "--pipelines", "inference_geometry", "--params", shard.format(0))
    assert not predictions.exists()  # a shard writes its part, never the merged file
    kedro(project, "--pipelines", "inference_geometry", "--params", shard.format(1))
    parts = project / "data/07_model_output/prediction_parts/geometry"
    sizes = {p.name: len(p.read_text().splitlines()) for p in parts.glob("*.jsonl")}
    assert set(sizes) == {"shard-0-of-2.jsonl", "shard-1-of-2.jsonl"} and all(sizes.values())

    kedro(project, "--pipelines", "merge_geometry")
    assert _predictions(predictions) == whole

    checkpoint = project / "data/07_model_output/checkpoints/geometry.shard-1-of-2.jsonl"
    before = checkpoint.read_text()
    log = kedro(project, "--pipelines", "inference_geometry", "--params", shard.format(1))
    assert checkpoint.read_text() == before  # nothing asked again
    # the resume count is an INFO record: in logs/info.log, on the console only with --verbose
    assert "resumed" in log + (project / "logs" / "info.log").read_text()
