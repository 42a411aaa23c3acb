"""In-environment checks, run by ``python -m ct_spatial_bench.models env check <model>``: the
adapter's default loader on its authors' published layout, in the model's own environment
(``CT_SPATIAL_BENCH_ENV_PYTHON``), through the worker, and the same answer as this environment
computes from the same weights. Skipped in a plain test run (no environment named)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "models"))  # the folder writers

from ct_spatial_bench.models.base import Question  # noqa: E402
from ct_spatial_bench.models.environments import environment_of  # noqa: E402
from ct_spatial_bench.inference.backends.worker import RemoteAdapter  # noqa: E402

ENV_PYTHON = os.environ.get("CT_SPATIAL_BENCH_ENV_PYTHON")
ENV_MODEL = os.environ.get("CT_SPATIAL_BENCH_ENV_MODEL")
pytestmark = pytest.mark.skipif(not ENV_PYTHON, reason="run by `env check <model>`")
SRC = str(Path(__file__).resolve().parents[2] / "src")


def in_env(code: str, *args: str) -> str:
    """Run ``code`` in the model's environment (this checkout's package importable)."""
    env = {**os.environ, "PYTHONPATH": SRC}
    done = subprocess.run([ENV_PYTHON, "-c", code, *args], capture_output=True, text=True,
                          env=env, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def installed_versions() -> dict[str, str]:
    return json.loads(in_env(
        "import json, importlib.metadata as m\n"
        "print(json.dumps({d: m.version(d) for d in ('transformers', 'torch', 'tokenizers')}))"))


def test_pins_are_what_the_environment_holds():
    """transformers and tokenizers as declared; the worker starts and imports the registry."""
    pins = dict(p.split("==") for p in environment_of(ENV_MODEL).pins if "==" in p)
    held = installed_versions()
    assert (held["transformers"], held["tokenizers"]) == (pins["transformers"],
                                                          pins["tokenizers"])
    in_env("from ct_spatial_bench.models.registry import create_adapter\n"
           f"create_adapter({ENV_MODEL!r})")


def test_radfm(tmp_path):
    if ENV_MODEL != "radfm":
        pytest.skip("RadFM's environment only")
    import torch
    from radfm_folders import write_radfm

    from ct_spatial_bench.models.adapters.radfm import image_placeholder, radfm_model

    folders = {k: str(v) for k, v in write_radfm(tmp_path).items()}
    volume = np.random.default_rng(0).random((16, 16, 8)).astype(np.float32)
    adapter = RemoteAdapter("radfm", "radfm", ENV_PYTHON)
    try:
        adapter.load({**folders, "device": "cpu"})
        [answer] = adapter.answer_volume(volume, [Question("q0", "Which side is the nodule?")])
    finally:
        adapter.close()
    assert answer.prompt == image_placeholder(0) + "Which side is the nodule?"

    # the same weights in this environment: the prompt's ids from the pinned tokenizer, greedy
    # decoding here, the tokens decoded there; the answer must be the worker's
    script = ("import json, sys\nfrom ct_spatial_bench.models.adapters.radfm import radfm_tokenizer\n"
              "t = radfm_tokenizer(sys.argv[1])\n")
    ids = json.loads(in_env(script + "print(json.dumps(t(sys.argv[2]).input_ids))",
                            folders["language_files"], answer.prompt))
    model = radfm_model(folders["code_dir"], folders["language_files"],
                        folders["model_path"] + "/pytorch_model.bin").eval()
    vision = torch.from_numpy(volume)[None, None, None].expand(1, 1, 3, 16, 16, 8)
    generated = model.generate(torch.tensor([ids]), vision.contiguous())[0].tolist()
    here = in_env(script + "print(t.decode(json.loads(sys.argv[2]), skip_special_tokens=True)"
                           ".strip(), end='')", folders["language_files"], json.dumps(generated))
    assert len(generated) > 1 and answer.text == here


def test_m3d(tmp_path):
    """M3D-LaMed's own loading code (AutoModelForCausalLM, trust_remote_code, the slow LLaMA
    tokenizer) under its pinned transformers, through the worker; the answer as this
    environment's transformers computes it from the same folder."""
    if ENV_MODEL != "m3d":
        pytest.skip("M3D's environment only")
    import torch
    from support.remote_code_folders import build_remote_code_model
    from transformers import AutoModelForCausalLM

    folder = build_remote_code_model(tmp_path / "m3d", "m3d", sentencepiece=True,
                                     proj_out_num=8)
    volume = np.random.default_rng(0).random((4, 8, 8)).astype(np.float32)
    adapter = RemoteAdapter("m3d", "m3d", ENV_PYTHON,
                            env={"HF_MODULES_CACHE": str(tmp_path / "modules_env")})
    try:
        adapter.load({"model_path": str(folder), "device": "cpu"})
        [answer] = adapter.answer_volume(volume, [Question("q0", "which side lung")])
    finally:
        adapter.close()
    assert answer.prompt == "<im_patch>" * 8 + " which side lung"

    script = ("import json, sys\nfrom transformers import AutoTokenizer\n"
              "t = AutoTokenizer.from_pretrained(sys.argv[1], use_fast=False)\n")
    ids = json.loads(in_env(script + "print(json.dumps(t(sys.argv[2]).input_ids))",
                            str(folder), answer.prompt))
    assert ids[0] == 1 and ids.count(3) == 8  # BOS; <im_patch> is piece 3, after unk/bos/eos
    model = AutoModelForCausalLM.from_pretrained(folder, trust_remote_code=True).eval()
    image = torch.from_numpy(volume)[None, None]
    generated = model.generate(image, torch.tensor([ids]), do_sample=False, num_beams=1,
                               max_new_tokens=256)[0].tolist()
    here = in_env(script + "print(t.batch_decode([json.loads(sys.argv[2])], "
                           "skip_special_tokens=True)[0].strip(), end='')",
                  str(folder), json.dumps(generated))
    assert len(generated) > 1 and answer.text == here


def published_tokenizer_config(folder: Path) -> None:
    """Named special tokens where transformers 4.x checkpoints keep them (``extra_special_tokens``,
    as google/medgemma's tokenizer_config.json has them); transformers 5 writes
    ``model_specific_special_tokens`` and reads both."""
    path = folder / "tokenizer_config.json"
    config = json.loads(path.read_text())
    if config.get("model_specific_special_tokens"):
        config["extra_special_tokens"] = config["model_specific_special_tokens"]
        path.write_text(json.dumps(config, indent=1))


SLICE_MODELS = {"medgemma": "build_tiny_gemma3", "lingshu": "build_tiny_qwen2_5_vl"}
# transformers 5 saves Gemma 3's SigLIP tower without its vision_model level; google/medgemma-*
# keeps the names it was published with, which transformers 5 maps on load and 4.57 expects.
# Written here as published (prefix as saved -> prefix as published).
PUBLISHED_NAMES = {
    "medgemma": (("vision_tower.", "vision_tower.vision_model."),),  # SigLIP's vision_model
    "lingshu": (),  # saved as Lingshu-7B publishes them (model.layers, visual.blocks)
}


def published_weight_names(folder: Path, renames) -> None:
    from safetensors.torch import load_file, save_file

    weights = load_file(str(folder / "model.safetensors"))
    renamed = {}
    for name, tensor in weights.items():
        for saved, published in renames:
            if name.startswith(saved):
                name = published + name[len(saved):]
                break
        renamed[name] = tensor
    save_file(renamed, str(folder / "model.safetensors"), metadata={"format": "pt"})


def test_slice_models(tmp_path):
    """MedGemma / Lingshu: the adapter's from_pretrained path under the pinned transformers,
    through the worker, answers as the same adapter does here on the same tiny checkpoint."""
    if ENV_MODEL not in SLICE_MODELS:
        pytest.skip("MedGemma's and Lingshu's environments only")
    import support.tiny_vlm_folders as tiny_vlm_folders

    from ct_spatial_bench.models.registry import create_adapter

    with pytest.MonkeyPatch.context() as patch:
        tiny_vlm_folders.without_video_processor(patch)  # here only: there torchvision is in
        folder = getattr(tiny_vlm_folders, SLICE_MODELS[ENV_MODEL])(tmp_path / "tiny")
        published_tokenizer_config(folder)
        published_weight_names(folder, PUBLISHED_NAMES[ENV_MODEL])
        if ENV_MODEL == "lingshu":
            # Lingshu-7B ships preprocessor_config.json, from which transformers 5 also builds
            # its video processor; the tiny folder's processor_config.json holds no such part
            from transformers import AutoImageProcessor

            AutoImageProcessor.from_pretrained(folder).save_pretrained(folder)
        slices = np.random.default_rng(0).integers(0, 256, (3, 16, 16, 3), dtype=np.uint8)
        questions = [Question("q0", "which side lung"), Question("q1", "is the nodule left")]
        config = {"model_path": str(folder), "device": "cpu"}
        adapter = RemoteAdapter(ENV_MODEL, ENV_MODEL, ENV_PYTHON)
        try:
            adapter.load(config)
            there = adapter.answer_volume(slices, questions)
        finally:
            adapter.close()
        here_adapter = create_adapter(ENV_MODEL)
        here_adapter.load(config)
        here = here_adapter.answer_volume(slices, questions)
    assert [a.text for a in there] == [a.text for a in here]
    assert [a.new_tokens for a in there] == [a.new_tokens for a in here]
    assert all(a.new_tokens for a in there)
