"""``python -m ct_spatial_bench.models env show|create|check|remove <model>``.

``create`` builds ``.envs/<model>`` from the declared pins (environments.py) with ``uv`` when it is
on PATH, else ``venv`` + pip, and does nothing when the environment already holds exactly those
requirements (a stamp file records them). Its last line is the interpreter, the value of the
model's ``runtime.python``. ``check`` runs the model's in-environment check (pytest, in this
interpreter) against that interpreter: the adapter's loader and an answer, through the worker.
``remove`` deletes ``.envs/<model>``: an environment whose model needs torchvision holds a CUDA
torch of about 5.8 GB, so CI builds, checks and removes one at a time.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from ct_spatial_bench.models.environments import ModelEnvironment, environment_of

STAMP = "ct_spatial_bench_env.json"
CHECKS = "tests/env_checks"  # each model's checks; the others skip themselves
ENV_PYTHON_VARIABLE = "CT_SPATIAL_BENCH_ENV_PYTHON"  # the interpreter a check runs the worker in


def env_root(model: str, base: Path | None = None) -> Path:
    return (base or Path.cwd()) / ".envs" / model


def interpreter(root: Path) -> Path:
    return root / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def cuda_available() -> bool:
    """An NVIDIA driver is present (nvidia-smi answers): install the authors' CUDA torch."""
    return shutil.which("nvidia-smi") is not None and subprocess.run(
        ["nvidia-smi", "-L"], capture_output=True).returncode == 0


def show(environment: ModelEnvironment) -> str:
    cuda = cuda_available()
    lines = [f"{environment.model}: python {environment.python}",
             f"  source: {environment.source}", f"  authors' code: {environment.code}",
             f"  torch: {environment.torch} + torchvision {environment.torchvision} "
             f"({environment.cuda}); this machine "
             f"{'has CUDA: that build' if cuda else 'has no CUDA: the CPU build'}",
             "  requirements: " + " ".join(environment.requirements(cuda))]
    lines += [f"  substituted: {line}" for line in environment.substitutions]
    return "\n".join(lines)


def create(environment: ModelEnvironment, root: Path, log=print) -> Path:
    """Build (or find up to date) the environment at ``root``; its interpreter."""
    cuda = cuda_available()
    wanted = {"requirements": environment.requirements(cuda), "cuda": cuda}
    python = interpreter(root)
    stamp = root / STAMP
    if python.exists() and stamp.is_file() and json.loads(stamp.read_text()) == wanted:
        log(f"{environment.model}: {root} is up to date")
        return python
    uv = shutil.which("uv")
    if not python.exists():
        command = ([uv, "venv", "--python", sys.executable, str(root)] if uv
                   else [sys.executable, "-m", "venv", str(root)])
        subprocess.run(command, check=True)
    install = ([uv, "pip", "install", "--python", str(python)] if uv
               else [str(python), "-m", "pip", "install", "--disable-pip-version-check"])
    if cuda:
        install += ["--extra-index-url", f"https://download.pytorch.org/whl/{environment.cuda}"]
    # torch first and alone: with it in place, no later requirement pulls another build
    torch = environment.torch_requirements(cuda)
    subprocess.run([*install, *torch], check=True)
    subprocess.run([*install, *wanted["requirements"][len(torch):]], check=True)
    stamp.write_text(json.dumps(wanted, indent=1))
    return python


def check(environment: ModelEnvironment, python: Path) -> int:
    """The model's in-environment check; pytest's exit code."""
    env = {**os.environ, ENV_PYTHON_VARIABLE: str(python),
           "CT_SPATIAL_BENCH_ENV_MODEL": environment.model}
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           CHECKS], env=env).returncode


def main(action: str, model: str) -> int:
    try:
        environment = environment_of(model)
    except KeyError as error:
        print(error.args[0], file=sys.stderr)
        return 2
    root = env_root(model)
    if action == "remove":
        if root.is_dir():
            shutil.rmtree(root)
            print(f"removed {root}")
        return 0
    if action == "show":
        print(show(environment))
        return 0
    if action == "create":
        python = create(environment, root)
        print(f"set {model}.runtime.python to it (conf/<env>/parameters_inference.yml, or "
              f"--params \"{model}.runtime.python={python}\"):")
        print(python)
        return 0
    python = interpreter(root)
    if not python.exists():
        print(f"no environment at {root}: run python -m ct_spatial_bench.models env create "
              f"{model} first", file=sys.stderr)
        return 2
    return check(environment, python)
