"""``env show|create``: the declared pins, torch first, uv or venv + pip, idempotent, and the
interpreter printed last. Installs are recorded, not run (``env create`` itself is run by CI)."""

from __future__ import annotations

import subprocess

import pytest

from ct_spatial_bench.models import envs
from ct_spatial_bench.models.environments import ENVIRONMENTS, environment_of


@pytest.fixture
def recorded(monkeypatch):
    calls = []

    def run(command, check=False, **_):
        calls.append([str(c) for c in command])
        if "venv" in command:  # what venv leaves: the interpreter
            root = command[-1]
            (envs.interpreter(envs.Path(root))).parent.mkdir(parents=True)
            envs.interpreter(envs.Path(root)).touch()
        return subprocess.CompletedProcess(command, 0)

    monkeypatch.setattr(envs.subprocess, "run", run)
    monkeypatch.setattr(envs, "cuda_available", lambda: False)
    monkeypatch.setattr(envs.shutil, "which", lambda name: None)  # no uv
    return calls


def test_every_seed_model_declares_the_upstream_transformers():
    upstream = {"m3d": "4.45.2", "med3dvlm": "4.48.3", "radfm": "4.31.0", "merlin": "4.57.3",
                "ct_chat": "4.44.0", "vila_m3": "4.37.2", "medgemma": "4.57.6",
                "lingshu": "5.0.0", "hulu_med": "4.51.2"}  # the list; Hulu-Med's own file
    assert {m: dict(p.split("==") for p in e.pins)["transformers"]
            for m, e in ENVIRONMENTS.items()} == upstream


def test_create_installs_torch_first_then_the_pins_once(tmp_path, recorded):
    radfm = environment_of("radfm")
    python = envs.create(radfm, tmp_path / "radfm", log=lambda _: None)
    assert python == tmp_path / "radfm" / "bin" / "python"
    venv, torch, rest = recorded
    assert venv[-3:] == ["-m", "venv", str(tmp_path / "radfm")]
    assert torch[-1] == "torch==2.13.0"  # the CPU build this machine installs, alone first
    assert "transformers==4.31.0" in rest and "tokenizers==0.13.3" in rest and "nibabel" in rest
    said = []
    assert envs.create(radfm, tmp_path / "radfm", log=said.append) == python
    assert len(recorded) == 3 and said == [f"radfm: {tmp_path / 'radfm'} is up to date"]


def test_create_prints_the_interpreter_last(tmp_path, recorded, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert envs.main("create", "merlin") == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert last == str(tmp_path / ".envs" / "merlin" / "bin" / "python")
    assert recorded[1][-2:] == ["torch==2.14.1", "torchvision==0.29.1"]


def test_show_and_an_unknown_model(capsys):
    assert envs.main("show", "hulu_med") == 0
    out = capsys.readouterr().out
    assert "transformers==4.51.2" in out and "substituted: tokenizers 0.20.3 -> 0.21.1" in out
    assert envs.main("show", "nope") == 2


def test_remove_deletes_only_that_models_environment(tmp_path, recorded, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert envs.main("create", "radfm") == 0 and envs.main("create", "m3d") == 0
    assert envs.main("remove", "radfm") == 0
    assert not (tmp_path / ".envs" / "radfm").exists()
    assert envs.interpreter(tmp_path / ".envs" / "m3d").exists()
    assert envs.main("remove", "radfm") == 0  # already gone: nothing to do, not an error
