"""`kedro viz build` works offline and shows the stages as layers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from support.project import make_scratch_project


@pytest.mark.slow
def test_viz_build_shows_stages_as_layers(tmp_path):
    root = make_scratch_project(tmp_path)
    env = {**os.environ, "KEDRO_DISABLE_TELEMETRY": "1"}
    kedro = Path(sys.executable).with_name("kedro")
    subprocess.run([str(kedro), "viz", "build"], cwd=root, env=env, check=True,
                   capture_output=True, timeout=300)
    graph = json.loads((root / "build" / "api" / "main").read_text())
    stages = ["raw", "intermediate", "primary", "model_input", "model_output", "reporting"]
    assert [layer for layer in graph["layers"] if layer in stages] == stages
    names = {node["name"] for node in graph["nodes"]}
    assert {"generate_sanity_split", "filter_spatial_questions", "preprocess_volumes",
            "judge_predictions"} <= names
    # preprocessing writes its outputs through the catalog, so the lineage runs through them
    name_of = {node["id"]: node["name"] for node in graph["nodes"]}
    edges = {(name_of[edge["source"]], name_of[edge["target"]]) for edge in graph["edges"]}
    assert {("existing_model_inputs", "preprocess_volumes"),
            ("preprocess_volumes", "model_inputs_ras_hu"),
            ("preprocess_volumes", "preprocessing_manifest"),
            ("model_inputs_ras_hu", "geometry")} <= edges  # geometry's inference reads them
    _served_build_shows_the_graph(root / "build")


def _served_build_shows_the_graph(build: Path) -> None:
    """As the docs say (docs/lineage.md): the build needs a web server, not file://; served
    by ``python -m http.server``, its page loads and its graph answers over HTTP."""
    import socket
    import time
    import urllib.request

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "http.server", "--directory", str(build),
                               str(port), "--bind", "127.0.0.1"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as page:
                    html = page.read().decode()
                break
            except OSError:
                time.sleep(0.1)
        else:
            pytest.fail("http.server did not answer")
        assert 'id="root"' in html or "kedro-viz" in html.lower()
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/main", timeout=5) as answer:
            graph = json.loads(answer.read())
        assert "build_leaderboard" in {node["name"] for node in graph["nodes"]}
    finally:
        server.terminate()
        server.wait(timeout=10)
