"""The memory plan against hand computations and the real library's parameter counts."""

from __future__ import annotations

import json

import pytest

from ct_spatial_bench.errors import ConfigurationError
from ct_spatial_bench.imaging.specs import InputSpec
from ct_spatial_bench.models import memory_plan
from ct_spatial_bench.models.memory_plan import (
    GIB,
    MemoryPlan,
    architecture,
    config_parameters,
    counted_parameters,
)

TINY = {"model_type": "llama", "hidden_size": 16, "num_hidden_layers": 1, "vocab_size": 100,
        "num_attention_heads": 2, "num_key_value_heads": 2, "head_dim": 8,
        "intermediate_size": 32, "tie_word_embeddings": False, "max_position_embeddings": 64}


def test_parameters_from_sizes_by_hand_and_as_the_library_counts():
    # embeddings + head 2*100*16, q/k/v/o 4*16*16, gate/up/down 3*16*32, 2 norms, final norm
    assert config_parameters(TINY) == 3200 + 1024 + 1536 + 32 + 16 == 5808
    from transformers import LlamaConfig, LlamaForCausalLM

    model = LlamaForCausalLM(LlamaConfig(**TINY))
    assert config_parameters(TINY) == sum(p.numel() for p in model.parameters())


def test_parameters_counted_from_safetensors_headers_and_a_bin(tmp_path):
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    model = LlamaForCausalLM(LlamaConfig(**TINY))
    model.save_pretrained(tmp_path / "st", max_shard_size="10KB")
    assert counted_parameters(tmp_path / "st") == 5808
    (tmp_path / "bin").mkdir()
    torch.save(model.state_dict(), tmp_path / "bin" / "pytorch_model.bin")
    assert counted_parameters(tmp_path / "bin") == 5808
    config = json.loads((tmp_path / "st" / "config.json").read_text())
    assert architecture(config, tmp_path / "st").parameters == 5808


def radfm_like(gpu_type):
    """LLaMA-13B's shape, 14e9 parameters in float32, RadFM's prompt (34 + 256) and 200 tokens."""
    return MemoryPlan(model="radfm", parameters=14_000_000_000, precision="float32",
                      prompt_tokens=290, new_tokens=200, layers=40, kv_heads=40, head_dim=128,
                      context=2048, gpu_type=gpu_type)


def test_weights_and_kv_cache_by_hand():
    plan = radfm_like("a100")
    assert plan.weights_gib == pytest.approx(56e9 / 2**30)  # 52.15 GiB
    # 2 x 40 layers x 40 heads x 128 x 490 tokens x 4 bytes = 802,816,000 bytes
    assert plan.kv_gib * GIB == pytest.approx(802_816_000)
    assert plan.total_gib == pytest.approx(56e9 / 2**30 + 802_816_000 / 2**30 + 1)


def test_a_job_that_cannot_fit_is_refused_naming_both_numbers():
    [problem] = radfm_like("a100").problems()
    assert problem.startswith("radfm needs about 53.9 GiB of GPU memory (weights 52.2 + KV "
                              "cache 0.7 + 1) but a a100 has 39 GiB")
    assert radfm_like("a100_80g").problems() == []
    assert radfm_like(None).problems() == []  # no GPU type asked for: nothing to compare
    assert "GPU type not set: not compared" in radfm_like(None).line()


def test_a_prompt_longer_than_the_context_is_refused():
    plan = MemoryPlan(model="m", parameters=1, precision="bfloat16", prompt_tokens=22_526,
                      new_tokens=512, layers=1, kv_heads=1, head_dim=1, context=8192,
                      gpu_type=None)
    assert plan.problems() == ["m's longest prompt (22,526 + 512 new tokens) exceeds its context "
                               "of 8,192 tokens (max_position_embeddings)"]


def test_image_tokens_of_the_slice_models_by_hand():
    from ct_spatial_bench.models.adapters.hulu_med import HuluMed
    from ct_spatial_bench.models.adapters.lingshu import Lingshu
    from ct_spatial_bench.models.adapters.medgemma import MedGemma
    from ct_spatial_bench.models.adapters.radfm import RadFM

    medgemma = InputSpec(name="medgemma", slices=85)
    # Gemma 3: 256 tokens per image, + 6 for the label and markers: 85 x 262
    assert MedGemma.image_tokens(medgemma, {"mm_tokens_per_image": 256}) == 22_270
    lingshu = InputSpec(name="lingshu", slices=32)
    # Qwen2.5-VL: 512 px / (14 x 2) = 18.3 -> 18 merged patches a side, 324 per slice
    assert Lingshu.image_tokens(lingshu, {"vision_config": {"patch_size": 14,
                                                            "spatial_merge_size": 2}}) == 32 * 330
    assert HuluMed.image_tokens(InputSpec(name="hulu_med", slices=160), {}) == 160 * 324
    assert RadFM.image_tokens(None, {}) == 34


def test_the_preflight_prints_the_plan_and_refuses_a_too_small_gpu(tmp_path, monkeypatch):
    import yaml
    from transformers import LlamaConfig, LlamaForCausalLM

    from ct_spatial_bench.preflight import memory_lines

    LlamaForCausalLM(LlamaConfig(**{**TINY, "max_position_embeddings": 4096})).save_pretrained(
        tmp_path / "m3d")
    inference = {"model": "m3d", "config": {"model_path": str(tmp_path / "m3d")}}
    specs = yaml.safe_load(open("conf/base/parameters_preprocessing.yml"))["preprocessing"]
    params = {"m3d": {"resources": {"gpus": 1, "gpu_type": "a100"}, "inference": inference},
              "preprocessing": {"specs": {"m3d": specs["specs"]["m3d"]}}}
    [line] = memory_lines(params, {"m3d": inference})
    # 5808 parameters in bfloat16; 256 image + 256 text tokens + 256 new
    assert line.startswith("memory m3d: ~1.0 GiB = weights 0.0 GiB (0.00B x bfloat16) + KV "
                           "0.0 GiB for 512 + 256 tokens")
    assert line.endswith("a100 has 39 GiB")
    monkeypatch.setitem(memory_plan.GPU_MEMORY_GIB, "toy", 1)  # the overhead alone exceeds it
    params["m3d"]["resources"]["gpu_type"] = "toy"
    with pytest.raises(ConfigurationError, match="m3d needs about 1.0 GiB .* but a toy has 1 GiB"):
        memory_lines(params, {"m3d": inference})
    # context: 512 + 256 tokens exceed a model of 64 positions
    params["m3d"]["resources"]["gpu_type"] = "h100"
    config = json.loads((tmp_path / "m3d" / "config.json").read_text())
    (tmp_path / "m3d" / "config.json").write_text(json.dumps({**config,
                                                              "max_position_embeddings": 64}))
    with pytest.raises(ConfigurationError, match=r"m3d's longest prompt \(512 \+ 256 new "
                                                 r"tokens\) exceeds its context of 64 tokens"):
        memory_lines(params, {"m3d": inference})


def test_the_printed_plan_shows_each_models_memory_line():
    from ct_spatial_bench.preflight import RunPlan

    line = radfm_like("a100_80g").line()
    assert line.startswith("memory radfm: ~53.9 GiB = weights 52.2 GiB (14.00B x float32) + KV "
                           "0.7 GiB for 290 + 200 tokens + 1 GiB overhead; a100_80g has 79 GiB")
    rendered = RunPlan(split="full", models=["radfm"], memory=[line]).render()
    assert rendered.splitlines()[1] == "  " + line


def test_a_batch_holds_the_kept_prefill_and_a_full_cache_per_row():
    """batch_decode keeps the prefix prefill for the next batch and the expanded cache's first
    concatenation copies every row: 290 + 4 x (290 + 200) = 2,250 tokens' keys and values."""
    plan = MemoryPlan(**{**radfm_like("a100_80g").__dict__, "rows": 4})
    # 2 (k, v) x 40 layers x 40 heads x 128 x 4 bytes = 1,638,400 bytes a token
    assert plan.kv_gib * GIB == pytest.approx(1_638_400 * 2_250)
    assert "290 + 200 tokens x 4 questions decoded together" in plan.line()
    small = MemoryPlan(**{**plan.__dict__, "gpu_type": "a100"})
    assert "lower radfm.inference.config.max_batch" in small.problems()[0]
    assert "max_batch" not in radfm_like("a100").problems()[0]  # one row: nothing to lower


def test_the_batch_is_bounded_by_max_batch_and_the_questions_of_a_volume():
    from ct_spatial_bench.models.adapters.lingshu import Lingshu
    from ct_spatial_bench.models.adapters.radfm import RadFM
    from ct_spatial_bench.models.memory_plan import decoded_rows

    assert decoded_rows(Lingshu, {}, 12) == 12  # every question of the fullest volume at once
    assert decoded_rows(Lingshu, {"max_batch": 4}, 12) == 4
    assert decoded_rows(Lingshu, {"max_batch": 16}, 12) == 12
    assert decoded_rows(Lingshu, {"max_batch": 4}, None) == 4
    assert decoded_rows(Lingshu, {}, None) is None  # unbounded and the QA not known yet
    assert decoded_rows(Lingshu, {"batch_questions": False}, 12) == 1
    assert decoded_rows(Lingshu, {"share_prefix": False}, 12) == 1  # batching needs the prefix
    assert decoded_rows(RadFM, {}, 12) == 1  # the authors' code asks one question at a time
    unbounded = MemoryPlan(**{**radfm_like(None).__dict__, "rows": None})
    assert unbounded.kv_gib == radfm_like(None).kv_gib
    assert "set radfm.inference.config.max_batch to plan the batch" in unbounded.line()


def test_only_the_adapters_that_batch_declare_it():
    from ct_spatial_bench.models.registry import MODEL_REGISTRY, adapter_class

    batching = {name for name in MODEL_REGISTRY if adapter_class(name).batches_questions}
    # the transformers chat models share hf_vlm's answer_volume (batch_decode); no other does
    assert batching == {"hf_vlm", "lingshu", "medgemma", "qwen2_5_vl", "qwen3_vl", "internvl3"}
