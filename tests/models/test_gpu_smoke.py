"""benchmarks/gpu_smoke.py: says why it measures nothing (no GPU, no weights) and exits 0; on the
CPU with a tiny LLaVA it prints every figure and the shared-prefix agreement."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def smoke():
    spec = importlib.util.spec_from_file_location("gpu_smoke", ROOT / "benchmarks/gpu_smoke.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_without_a_gpu_it_says_so_and_exits_0(smoke, monkeypatch, capsys):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert smoke.main([]) == 0
    assert "no GPU on this machine" in capsys.readouterr().out


def test_without_weights_it_names_each_model_and_exits_0(smoke, capsys, tmp_path):
    assert smoke.main(["--device", "cpu", "--models", "m3d,radfm",
                       "--set", f"radfm.model_path={tmp_path / 'none'}"]) == 0
    out = capsys.readouterr().out
    assert "m3d: skipped, no weights: model_path not set" in out
    assert f"radfm: skipped, no weights: radfm.inference.config.model_path = {tmp_path / 'none'}" \
        " does not exist" in out
    assert out.strip().endswith("no model has its weights here; nothing measured.")


def test_token_agreement_by_hand(smoke):
    # whitespace tokens: a b agree, c/d differ, e has no partner: 2 of 4 positions
    assert smoke.token_agreement(None, ["a b c"], ["a b d e"]) == 0.5


@pytest.mark.slow
def test_a_tiny_model_on_the_cpu_prints_every_figure(smoke, tiny_llava_dir, ras_volume, tmp_path,
                                                     capsys):
    import nibabel as nib

    (tmp_path / "volumes").mkdir()
    rows = []
    for case in ("v1", "v2"):
        nib.save(ras_volume, tmp_path / "volumes" / f"{case}.nii.gz")
        rows += [{"case_id": case, "image_path": f"{case}.nii.gz", "question": q, "answer": "-"}
                 for q in ("which side is the nodule", "is the lung left or right")]
    (tmp_path / "qa.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert smoke.main(["--device", "cpu", "--models", "hf_vlm",
                       "--set", f"hf_vlm.model_path={tiny_llava_dir}",
                       "--qa", str(tmp_path / "qa.jsonl"),
                       "--volumes", str(tmp_path / "volumes")]) == 0
    [line] = [l for l in capsys.readouterr().out.splitlines() if l.startswith("hf_vlm: ")]
    print(line)
    assert line.startswith("hf_vlm: 4 answers on 2 volumes | ")
    for figure in ("answers/s", "prefill ", "tok/s", "decode ", "peak n/a on cpu (estimate ",
                   " GiB)"):
        assert figure in line, line
    assert re.search(r" \| cut at max_new_tokens: [0-4]/4 \| ", line), line  # hf_vlm can tell
    # float32 on the CPU: the shared prefix gives the per-question answers exactly (as the
    # prefix-cache tests check against per-question generate)
    assert line.endswith("shared vs per-question: 4/4 identical, 100.0% tokens agree"), line
