"""The memory plan of CT-CHAT, VILA-M3 and Merlin: image tokens by hand from the authors' code,
and plan_for on checkpoint folders laid out as each is published (memory_plan_folders.py)."""

from __future__ import annotations

import shutil
import sys

import pytest
import yaml
from memory_plan_folders import (
    CT_CHAT_ENCODER_PARAMETERS,
    MERLIN_CHECKPOINT_PARAMETERS,
    TINY_LLAMA_PARAMETERS,
    VILA_M3_TOWER_AND_PROJECTOR,
    write_ct_chat,
    write_llama,
    write_merlin,
    write_vila_m3,
)

from ct_spatial_bench.imaging.specs import InputSpec
from ct_spatial_bench.models.adapters.ct_chat import CTChat
from ct_spatial_bench.models.adapters.merlin import MerlinReport
from ct_spatial_bench.models.adapters.vila_m3 import VilaM3
from ct_spatial_bench.models.memory_plan import GIB, plan_for

with open("conf/base/parameters_preprocessing.yml") as handle:
    SPECS = yaml.safe_load(handle)["preprocessing"]["specs"]


def run_spec(name):
    return InputSpec.from_params(name, SPECS[name])


def test_ct_chat_image_tokens_by_hand():
    # CT-CHAT@33c9b97: "attn_pool+mlp2x_gelu" (LLaMA3.1-V_finetune_lora_ctchat.sh:16) = an
    # attentional pooler of n_queries=256 (coca_attentional_pooler.py:21): 256 tokens
    assert CTChat.image_tokens(run_spec("ct_chat"),
                               {"mm_projector_type": "attn_pool+mlp2x_gelu"}) == 256
    # without pooling every CTViT token: 240/10 x 480/20 x 480/20 = 24 x 24 x 24 = 13,824
    assert CTChat.image_tokens(run_spec("ct_chat"), {"mm_projector_type": "mlp2x_gelu"}) == 13_824
    assert CTChat.image_tokens(InputSpec(name="x"), {}) is None  # no shape: unknown


def test_vila_m3_image_tokens_by_hand():
    # SigLIP-384/14: 27 x 27 = 729 tokens (cls_patch keeps all); mlp_downsample pads to 28 x 28
    # and merges 2 x 2: 14 x 14 = 196; the second call holds the slice and the overlay: 392
    assert VilaM3.image_tokens(run_spec("ras_hu"), {}) == 392


def test_merlin_image_tokens_by_hand_and_by_torch_layers():
    # the authors' comment (radiology_report_generation.py:28): [8, 2048, 10, 7, 7] -> 490;
    # 224 / 2^5 = 7 in-plane, 160 / 2^4 = 10 in depth: 7 x 7 x 10
    assert MerlinReport.image_tokens(run_spec("merlin"), {}) == 490
    # odd sides: 100 -> 50 -> 25 -> 13 -> 7 -> 4 in-plane; 50 -> 25 -> 13 -> 7 -> 4 in depth
    assert MerlinReport.image_tokens(InputSpec(name="m", shape=(100, 100, 50)), {}) == 64
    import torch
    from torch import nn

    # the same with torch's layers of the authors' kernels/strides/paddings (i3res.py, inflate.py:
    # conv1 (3,7,7)/(1,2,2)/(1,3,3), maxpool (3,3,3)/2/1, layer2-4 conv2 (3,3,3)/2/1)
    chain = nn.Sequential(nn.Conv3d(1, 1, (3, 7, 7), (1, 2, 2), (1, 3, 3)),
                          nn.MaxPool3d(3, 2, 1),
                          *[nn.Conv3d(1, 1, 3, 2, 1) for _ in range(3)])
    with torch.no_grad():
        out = chain(torch.zeros(1, 1, 50, 100, 100))  # (z, x, y) as the encoder permutes it
    assert out.shape[2:].numel() == 64


def kv_bytes(tokens, precision_bytes):
    # the tiny Llama: 2 (k, v) x 1 layer x 2 KV heads x 8 head size
    return 2 * 1 * 2 * 8 * tokens * precision_bytes


def test_ct_chat_plan_counts_the_base_and_the_encoder_not_the_lora_folder(tmp_path):
    config = write_ct_chat(tmp_path)
    plan = plan_for("ct_chat", CTChat, {"inference": {"config": config}}, run_spec("ct_chat"))
    assert plan.parameters == TINY_LLAMA_PARAMETERS + CT_CHAT_ENCODER_PARAMETERS == 6136
    assert (plan.precision, plan.rows) == ("float16", 1)
    # 256 image + 2,543 text tokens (test_memory_plan_text.py: no tokenizer in these folders,
    # so the system prompt's bytes), 512 new (ctchat_validation_llama.py's max_new_tokens)
    assert (plan.prompt_tokens, plan.new_tokens, plan.context) == (2799, 512, 131072)
    assert plan.kv_gib * GIB == pytest.approx(kv_bytes(2799 + 512, 2))
    missing = {**config, "encoder_path": str(tmp_path / "absent.pth")}
    assert CTChat.memory_sources(missing) is None


def test_ct_chat_without_a_base_counts_the_model_path(tmp_path):
    """A merged (non-LoRA) checkpoint: model_path holds the weights; encoder 2 x 3 = 6."""
    import torch

    full = write_llama(tmp_path / "merged")
    torch.save({"w": torch.zeros(2, 3)}, tmp_path / "enc.pth")
    plan = plan_for("ct_chat", CTChat, {"inference": {"config": {
        "model_path": str(full), "encoder_path": str(tmp_path / "enc.pth")}}}, None)
    assert plan.parameters == TINY_LLAMA_PARAMETERS + 6


def test_vila_m3_plan_counts_llm_vision_tower_and_projector(tmp_path):
    root = write_vila_m3(tmp_path / "Llama3-VILA-M3-8B")
    plan = plan_for("vila_m3", VilaM3, {"inference": {"config": {"model_path": str(root)}}},
                    run_spec("ras_hu"))
    assert plan.parameters == TINY_LLAMA_PARAMETERS + VILA_M3_TOWER_AND_PROJECTOR == 6944
    # 392 image + 1,549 text tokens (test_memory_plan_text.py: no cards or label groups named),
    # 1,024 new (the demo's max_new_tokens), float16
    assert (plan.prompt_tokens, plan.new_tokens, plan.precision) == (1941, 1024, "float16")
    assert plan.kv_gib * GIB == pytest.approx(kv_bytes(1941 + 1024, 2))
    shutil.rmtree(root / "vision_tower")  # a download that stopped short: no plan
    assert VilaM3.memory_sources({"model_path": str(root)}) is None


def test_merlin_plan_reads_radllama_from_its_cache_and_counts_the_report_checkpoint(
        tmp_path, monkeypatch):
    settings = write_merlin(tmp_path)
    plan = plan_for("merlin", MerlinReport, {"inference": {"config": settings}},
                    run_spec("merlin"))
    assert plan.parameters == MERLIN_CHECKPOINT_PARAMETERS == 3492
    # 490 image + 256 text tokens, 128 new (report_generation_demo.py), float32 as loaded
    assert (plan.prompt_tokens, plan.new_tokens, plan.precision) == (746, 128, "float32")
    assert plan.context == 4096
    assert plan.kv_gib * GIB == pytest.approx(kv_bytes(746 + 128, 4))
    # the defaults: ./checkpoints of the working directory, the installed package's folder
    monkeypatch.chdir(tmp_path)
    monkeypatch.delitem(sys.modules, "merlin", raising=False)
    monkeypatch.syspath_prepend(str(tmp_path))
    assert MerlinReport.memory_sources({}) == (
        tmp_path / "checkpoints" / "models--StanfordAIMI--RadLLaMA-7b" / "snapshots" / "4632c08"
        / "config.json", tmp_path / "merlin" / "models" / "checkpoints" /
        "resnet_gpt2_best_stanford_report_generation_average.pt")
    assert MerlinReport.memory_sources({**settings, "radllama_cache": str(tmp_path / "x")}) is None


def test_the_preflight_prints_all_three_with_their_images_counted(tmp_path):
    from ct_spatial_bench.preflight import memory_lines

    selected = {"ct_chat": {"model": "ct_chat", "config": write_ct_chat(tmp_path / "c")},
                "vila_m3": {"model": "vila_m3", "config": {
                    "model_path": str(write_vila_m3(tmp_path / "v"))}},
                "merlin": {"model": "merlin", "config": write_merlin(tmp_path / "m")}}
    params = {"preprocessing": {"specs": SPECS},
              **{name: {"resources": {"gpu_type": "a100"}} for name in selected}}
    lines = memory_lines(params, selected)
    assert [line.split(":")[0] for line in lines] == ["memory ct_chat", "memory merlin",
                                                      "memory vila_m3"]
    assert "for 2,799 + 512 tokens" in lines[0] and "(0.00B x float16)" in lines[0]
    assert "for 746 + 128 tokens" in lines[1] and "(0.00B x float32)" in lines[1]
    assert "for 1,941 + 1024 tokens" in lines[2]
    assert not any("prompt length unknown" in line for line in lines)
