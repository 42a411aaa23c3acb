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


# model: (remote-code family, config.json extras, tokenizer as published, image tokens, BOS)
REMOTE_CODE = {"m3d": ("m3d", {"proj_out_num": 8}, True, 8, True),
               "med3dvlm": ("med3dvlm", {"proj_out_num": 8}, False, 8, False)}


def published_bpe_files(folder: Path) -> None:
    """The tokenizer files as Qwen checkpoints publish them: vocab.json and merges.txt beside
    tokenizer.json (the slow Qwen2Tokenizer that ``use_fast=False`` asks for reads only these;
    transformers 5 saves tokenizer.json alone), and added tokens under
    ``additional_special_tokens`` (transformers 5 writes a list under ``extra_special_tokens``,
    which 4.x reads as a dict)."""
    model = json.loads((folder / "tokenizer.json").read_text())["model"]
    (folder / "vocab.json").write_text(json.dumps(model["vocab"], ensure_ascii=False))
    merges = [m if isinstance(m, str) else " ".join(m) for m in model["merges"]]
    (folder / "merges.txt").write_text("#version: 0.2\n" + "\n".join(merges) + "\n")
    path = folder / "tokenizer_config.json"
    config = json.loads(path.read_text())
    config.pop("backend", None)
    if isinstance(config.get("extra_special_tokens"), list):
        config["additional_special_tokens"] = config.pop("extra_special_tokens")
    path.write_text(json.dumps(config, indent=1))


@pytest.mark.parametrize("model", sorted(REMOTE_CODE))
def test_remote_code_models(model, tmp_path):
    """M3D-LaMed / Med3DVLM: the authors' own loading code (AutoModelForCausalLM,
    trust_remote_code, the slow tokenizer) under the pinned transformers, through the worker;
    the answer as this environment's transformers computes it from the same folder."""
    if ENV_MODEL != model:
        pytest.skip(f"{model}'s environment only")
    import torch
    from support.remote_code_folders import build_remote_code_model
    from transformers import AutoModelForCausalLM

    family, extra, sentencepiece, tokens, bos = REMOTE_CODE[model]
    folder = build_remote_code_model(tmp_path / model, family, sentencepiece=sentencepiece,
                                     **extra)
    if not sentencepiece:
        published_bpe_files(folder)
    volume = np.random.default_rng(0).random((4, 8, 8)).astype(np.float32)
    adapter = RemoteAdapter(model, model, ENV_PYTHON,
                            env={"HF_MODULES_CACHE": str(tmp_path / "modules_env")})
    try:
        adapter.load({"model_path": str(folder), "device": "cpu"})
        [answer] = adapter.answer_volume(volume, [Question("q0", "which side lung")])
    finally:
        adapter.close()
    assert answer.prompt == "<im_patch>" * tokens + " which side lung"

    script = ("import json, sys\nfrom transformers import AutoTokenizer\n"
              "t = AutoTokenizer.from_pretrained(sys.argv[1], use_fast=False)\n"
              "assert not t.is_fast\n")
    ids = json.loads(in_env(script + "print(json.dumps(t(sys.argv[2]).input_ids))",
                            str(folder), answer.prompt))
    patch = json.loads(in_env(script + "print(t.convert_tokens_to_ids('<im_patch>'))",
                              str(folder)))
    if sentencepiece:  # <im_patch> is piece 3 of the tiny SentencePiece, after unk/bos/eos
        assert patch == 3
    # LLaMA's BOS first (its SentencePiece then puts a word-start piece before the run); Qwen's
    # tokenizer adds none, so the run starts the prompt
    assert ids[0] == (1 if bos else patch) and ids.count(patch) == tokens
    model_here = AutoModelForCausalLM.from_pretrained(folder, trust_remote_code=True).eval()
    image = torch.from_numpy(volume)[None, None]
    generated = model_here.generate(image, torch.tensor([ids]), do_sample=False, num_beams=1,
                                    max_new_tokens=256)[0].tolist()
    here = in_env(script + "print(t.batch_decode([json.loads(sys.argv[2])], "
                           "skip_special_tokens=True)[0].strip(), end='')",
                  str(folder), json.dumps(generated))
    assert len(generated) > 1 and answer.text == here


def test_hulu_med(tmp_path):
    """Hulu-Med's loader under its pinned transformers (4.51.2: the first with Qwen3), through
    the worker: the 14B layout (Qwen3 weights behind the published ``model_type hulumed_qwen2``)
    goes through the ``hulumed_qwen3`` package with sdpa and loads strictly; forced through the
    Qwen2 package it stops, naming the weights (the Qwen2 layer's biases, Qwen3's q/k norms).
    The code packages are stand-ins (tests/models/hulu_med_folders.py): load only, no answer."""
    if ENV_MODEL != "hulu_med":
        pytest.skip("Hulu-Med's environment only")
    from hulu_med_folders import write_checkpoint, write_code_dir

    from ct_spatial_bench.inference.backends.worker import WorkerError

    config = {"model_path": str(write_checkpoint(tmp_path / "Hulu-Med-14B", "Qwen3")),
              "code_dir": str(write_code_dir(tmp_path / "src")), "device": "cpu"}
    adapter = RemoteAdapter("hulu_med", "hulu_med", ENV_PYTHON)
    try:
        adapter.load(config)
        assert adapter.describe()["code_package"] == "hulumed_qwen3"
    finally:
        adapter.close()
    adapter = RemoteAdapter("hulu_med", "hulu_med", ENV_PYTHON)
    try:
        with pytest.raises(WorkerError) as caught:
            adapter.load({**config, "code_package": "hulumed"})
    finally:
        adapter.close()
    message = str(caught.value)
    assert "missing from the checkpoint (model.layers.0.self_attn.k_proj.bias" in message
    assert "in the checkpoint but not in the model (model.layers.0.self_attn.k_norm.weight" in \
        message


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
        here = list(here_adapter.answer_volume(slices, questions))  # yielded as answered
    assert [a.text for a in there] == [a.text for a in here]
    assert [a.new_tokens for a in there] == [a.new_tokens for a in here]
    assert all(a.new_tokens for a in there)
