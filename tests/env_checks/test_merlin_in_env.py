"""Merlin in its own environment (``env check merlin``): the adapter's default loader,
``Merlin(RadiologyReport=True)`` of the merlin-vlm package, loads a tiny model the authors'
classes built (merlin_tiny.py says what is theirs and what is small) and answers through the
worker; the expected answer is the authors' documented call (documentation/
report_generation.md: ``Merlin(RadiologyReport=True)``; the demo's ``model.generate(images,
[prompt], do_sample=False, num_beams=1, repetition_penalty=1.2, max_new_tokens=128)``, the
report cut at the next ``###``) run in a separate process of that environment."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from test_in_env import ENV_MODEL, ENV_PYTHON, SRC, in_env

from ct_spatial_bench.inference.backends.worker import RemoteAdapter
from ct_spatial_bench.models.adapters.merlin import MerlinReport
from ct_spatial_bench.models.base import Question

pytestmark = pytest.mark.skipif(ENV_MODEL != "merlin", reason="Merlin's environment only")
WRITER = Path(__file__).with_name("merlin_tiny.py")
QUESTION = "which side is the nodule on"

AUTHORS_CALL = """
import json, sys
import numpy as np, torch
from merlin import Merlin

model = Merlin(RadiologyReport=True).eval()
image = torch.from_numpy(np.load(sys.argv[1]))[None, None]
texts = model.generate(image, [sys.argv[2] + "###\\n"], do_sample=False, num_beams=1,
                       repetition_penalty=1.2, max_new_tokens=128)
with torch.no_grad():  # the image tokens the report generator puts before the prompt
    tokens = model.model.encode_image(image).shape[1]
print(json.dumps([texts, tokens]))
"""


def run_there(args: list[str], env: dict[str, str], cwd: Path) -> str:
    merged = {**os.environ, **env,
              "PYTHONPATH": os.pathsep.join((env["PYTHONPATH"], SRC))}
    done = subprocess.run([ENV_PYTHON, *args], capture_output=True, text=True, env=merged,
                          cwd=cwd, timeout=900, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout.strip().splitlines()[-1]


def test_merlin_loads_the_authors_model_and_answers_as_their_demo(tmp_path, monkeypatch):
    from merlin_tiny import copy_package

    site = in_env("import merlin, os; print(os.path.dirname(merlin.__file__), end='')")
    package = copy_package(site, tmp_path / "package")
    work = tmp_path / "work"
    work.mkdir()
    # the package's imports first; its hub and torchvision downloads answered from caches here
    env = {"PYTHONPATH": str(package), "TORCH_HOME": str(work / "torch"),
           "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    written = json.loads(run_there([str(WRITER), str(work), str(package)], env, work))
    assert Path(written["report"]).parent == package / "merlin" / "models" / "checkpoints"

    # (x, y, z) 0..1 as the input spec gives it; sides that differ, so that the image tokens
    # tell the axes apart: 64 and 32 halved 5 times in-plane, 48 4 times in depth: 2 x 1 x 3
    volume = np.random.default_rng(0).random((64, 32, 48)).astype(np.float32)
    np.save(work / "volume.npy", volume)
    monkeypatch.chdir(work)  # the worker starts here: TextDecoder reads ./checkpoints
    adapter = RemoteAdapter("merlin", "merlin", ENV_PYTHON, env=env)
    try:
        adapter.load({"model_path": "stanfordmimi/Merlin", "device": "cpu"})
        [answer] = adapter.answer_volume(volume, [Question("q0", QUESTION)])
    finally:
        adapter.close()

    [report], tokens = json.loads(run_there(
        ["-c", AUTHORS_CALL, str(work / "volume.npy"), QUESTION], env, work))
    # the memory plan's count of them (MerlinReport.image_tokens), by hand and by their code
    assert tokens == MerlinReport.image_tokens(SimpleNamespace(shape=volume.shape), {}) == 6
    assert report.strip()  # something was generated: the comparison is not of two empties
    assert answer.prompt == QUESTION + "###\n"
    assert answer.text == report.split("###")[0].strip()
