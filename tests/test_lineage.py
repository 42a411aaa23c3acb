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
    assert {("existing_model_inputs_ras_hu", "preprocess_volumes"),
            ("preprocess_volumes", "model_inputs_ras_hu"),
            ("preprocess_volumes", "preprocessing_manifest"),
            ("model_inputs_ras_hu", "geometry")} <= edges  # geometry's inference reads them
