"""The preflight's checkpoint checks: a wrong local path, a malformed hub id, an uncached hub id
offline and a missing code folder are each refused before any node, naming the setting."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from ct_spatial_bench.errors import ConfigurationError
from ct_spatial_bench.models.adapters.m3d import M3DLaMed
from ct_spatial_bench.models.adapters.radfm import RadFM
from ct_spatial_bench.models.readiness import checkpoint_problems
from ct_spatial_bench.preflight import check_models


def test_a_local_folder_must_exist_and_hold_a_config(tmp_path):
    [problem] = checkpoint_problems("m3d", M3DLaMed, {"model_path": str(tmp_path / "nope")})
    assert problem == f"m3d.inference.config.model_path = {tmp_path / 'nope'} does not exist"
    (tmp_path / "ckpt").mkdir()
    [problem] = checkpoint_problems("m3d", M3DLaMed, {"model_path": str(tmp_path / "ckpt")})
    assert "without config.json" in problem
    (tmp_path / "ckpt" / "config.json").write_text("{}")
    assert checkpoint_problems("m3d", M3DLaMed, {"model_path": str(tmp_path / "ckpt")}) == []


def test_a_relative_path_is_a_path_not_a_hub_id():
    [problem] = checkpoint_problems("m3d", M3DLaMed, {"model_path": "./weights/m3d"})
    assert problem.endswith("./weights/m3d does not exist")
    [problem] = checkpoint_problems("m3d", M3DLaMed, {"model_path": "data/06_models/m3d"})
    assert problem.endswith("does not exist")


def test_a_hub_id_must_be_well_formed_and_cached_when_offline(tmp_path, monkeypatch):
    [problem] = checkpoint_problems("m3d", M3DLaMed, {"model_path": "GoodBaiBai88/M3D--Phi"})
    assert "hub id of the form owner/name" in problem
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    assert checkpoint_problems("m3d", M3DLaMed, {"model_path": "GoodBaiBai88/M3D-LaMed-Phi-3-4B"}) == []
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    [problem] = checkpoint_problems("m3d", M3DLaMed, {"model_path": "GoodBaiBai88/M3D-LaMed-Phi-3-4B"})
    assert "not in the Hugging Face cache" in problem
    # the cache's own layout (models--owner--name/snapshots/<commit>/config.json, refs/main)
    repo = tmp_path / "hub" / "models--GoodBaiBai88--M3D-LaMed-Phi-3-4B"
    (repo / "snapshots" / "abc").mkdir(parents=True)
    (repo / "snapshots" / "abc" / "config.json").write_text("{}")
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text("abc")
    assert checkpoint_problems("m3d", M3DLaMed, {"model_path": "GoodBaiBai88/M3D-LaMed-Phi-3-4B"}) == []


def test_radfm_needs_its_bin_and_code_folders_must_exist(tmp_path):
    (tmp_path / "radfm").mkdir()
    (tmp_path / "radfm" / "config.json").write_text("{}")  # not what RadFM publishes
    problems = checkpoint_problems("radfm", RadFM, {"model_path": str(tmp_path / "radfm"),
                                                    "code_dir": str(tmp_path / "Quick_demo")})
    assert problems == [
        f"radfm.inference.config.model_path = {tmp_path / 'radfm'} is a folder without "
        "pytorch_model.bin (not a checkpoint folder, or its parent)",
        f"radfm.inference.config.code_dir = {tmp_path / 'Quick_demo'} (the authors' code) is not "
        "a folder"]
    # RadFM's loader takes no hub id: a name that would be one is a missing local path
    [problem] = checkpoint_problems("radfm", RadFM, {"model_path": "chaoyi-wu/RadFM"})
    assert problem.endswith("chaoyi-wu/RadFM does not exist")


def test_check_models_names_every_problem_in_one_paragraph(tmp_path):
    with pytest.raises(ConfigurationError) as caught:
        check_models({"hulu_med": {"model": "hulu_med", "config": {
            "model_path": str(tmp_path / "14b"), "code_dir": str(tmp_path / "src")}}})
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith("inference_hulu_med cannot start: hulu_med.inference.config."
                              f"model_path = {tmp_path / '14b'} does not exist; ")
    assert "code_dir" in message and "Nothing was run." in message


@pytest.mark.slow
def test_kedro_run_refuses_a_missing_local_checkpoint_within_5_seconds(tmp_path):
    """The issue's acceptance: a wrong local model_path stops the run before any node, exit 2,
    one paragraph naming the setting, in under 5 s (kedro's own start-up included)."""
    from support.project import make_scratch_project

    (tmp_path / "project").mkdir()
    root = make_scratch_project(tmp_path / "project")
    start = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "kedro", "run", "--pipelines", "inference_m3d",
         "--params", "m3d.inference.config.model_path=/nonexistent/M3D-LaMed"],
        cwd=root, capture_output=True, text=True, timeout=120)
    seconds = time.monotonic() - start
    assert done.returncode == 2, done.stderr[-2000:]
    last = (done.stdout + done.stderr).strip().splitlines()[-1]
    assert "m3d.inference.config.model_path = /nonexistent/M3D-LaMed does not exist" in last
    assert "Traceback" not in done.stderr
    assert not list((root / "data").rglob("*.npy"))  # no preprocessing ran
    assert seconds < 5, seconds
