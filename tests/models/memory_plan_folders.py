"""CT-CHAT's, VILA-M3's and Merlin's checkpoints in small, laid out as each is published and as
each adapter's loader finds them, for the memory plan (weights counted from these files).

The language model everywhere is a tiny Llama of ``TINY_LLAMA``'s sizes: embeddings and head
2 x 100 x 16 = 3,200, q/k/v/o 4 x 16 x 16 = 1,024, gate/up/down 3 x 16 x 32 = 1,536, two norms
32, final norm 16: ``TINY_LLAMA_PARAMETERS`` = 5,808 (the count test_memory_plan.py checks
against transformers). The other parts are tensors of zeros whose sizes the docstrings add up.

- CT-CHAT (ibrahimethemhamamci/CT-CHAT ``llava/model/builder.py``: a LoRA folder given as
  model_path, the Llama base as model_base, CT-CLIP's ``clip_visual_encoder.pth`` apart): the LoRA
  folder holds LLaVA's config.json, ``adapter_model.safetensors`` and ``non_lora_trainables.bin``.
- VILA-M3 (NVlabs/VILA ``LlavaMetaModel.save_pretrained``): ``config.json`` at the root, then
  ``llm/``, ``vision_tower/`` and ``mm_projector/``, each with its own config and safetensors.
- Merlin: the report checkpoint (one state dict of the whole model) and RadLLaMA's config in a
  hub cache folder (``models--StanfordAIMI--RadLLaMA-7b/refs/main`` + ``snapshots/<rev>/``).
"""

from __future__ import annotations

import json
from pathlib import Path

TINY_LLAMA = {"model_type": "llama", "architectures": ["LlamaForCausalLM"], "hidden_size": 16,
              "num_hidden_layers": 1, "vocab_size": 100, "num_attention_heads": 2,
              "num_key_value_heads": 2, "head_dim": 8, "intermediate_size": 32,
              "tie_word_embeddings": False, "max_position_embeddings": 131072}
TINY_LLAMA_PARAMETERS = 3200 + 1024 + 1536 + 32 + 16


def write_llama(folder: Path, **overrides) -> Path:
    from transformers import LlamaConfig, LlamaForCausalLM

    LlamaForCausalLM(LlamaConfig(**{**TINY_LLAMA, **overrides})).save_pretrained(folder)
    return folder


def write_ct_chat(root: Path) -> dict[str, str]:
    """The encoder: 8 x 40 + 8 = 328 elements. The LoRA folder's own tensors (LoRA A/B of
    4 x 16 each, a projector of 16 x 16) must not be counted: the base carries the model."""
    import torch
    from safetensors.torch import save_file

    base = write_llama(root / "Llama-3.1-8B-Instruct")
    lora = root / "llava-llama3.1-8b-lora"
    lora.mkdir(parents=True)
    (lora / "config.json").write_text(json.dumps({
        **TINY_LLAMA, "model_type": "llava_llama", "architectures": ["LlavaLlamaForCausalLM"],
        "mm_projector_type": "attn_pool+mlp2x_gelu", "mm_hidden_size": 512,
        "mm_context_size": 512}))
    save_file({"base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight": torch.zeros(4, 16),
               "base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight": torch.zeros(16, 4)},
              str(lora / "adapter_model.safetensors"))
    torch.save({"model.mm_projector.proj.0.weight": torch.zeros(16, 16)},
               lora / "non_lora_trainables.bin")
    encoder = root / "clip_visual_encoder.pth"
    torch.save({"to_patch_emb.1.weight": torch.zeros(8, 40),
                "enc_spatial_transformer.norm_out.gamma": torch.zeros(8)}, encoder)
    return {"model_path": str(lora), "model_base": str(base), "encoder_path": str(encoder)}


CT_CHAT_ENCODER_PARAMETERS = 8 * 40 + 8


def write_vila_m3(root: Path) -> Path:
    """vision_tower: 4 x 3 x 2 x 2 = 48 elements; mm_projector: 64 (a LayerNorm of 4 x 16) +
    64 x 16 = 1,088."""
    import torch
    from safetensors.torch import save_file

    write_llama(root / "llm")
    (root / "config.json").write_text(json.dumps({
        "architectures": ["LlavaLlamaModel"], "model_type": "llava_llama",
        "llm_cfg": {**TINY_LLAMA, "_name_or_path": "./llm"},
        "mm_projector_cfg": {"mm_projector_type": "mlp_downsample"},
        "vision_tower_cfg": {"model_type": "siglip_vision_model", "image_size": 384,
                             "patch_size": 14}, "mm_vision_select_feature": "cls_patch"}))
    for name, tensors in {
            "vision_tower": {"vision_model.embeddings.patch_embedding.weight":
                             torch.zeros(4, 3, 2, 2)},
            "mm_projector": {"layers.1.weight": torch.zeros(64),
                             "layers.2.weight": torch.zeros(16, 64)}}.items():
        (root / name).mkdir()
        (root / name / "config.json").write_text("{}")
        save_file(tensors, str(root / name / "model.safetensors"))
    return root


VILA_M3_TOWER_AND_PROJECTOR = 48 + 64 + 64 * 16


def write_merlin(root: Path) -> dict[str, str]:
    """The report checkpoint: an I3D conv1 of 4 x 3 x 3 x 7 x 7 = 1,764, the adapter's 16 x 8 =
    128 and RadLLaMA's embeddings 100 x 16 = 1,600: 3,492 elements. The hub cache under
    ``root/checkpoints``, as TextDecoder's cache_dir="./checkpoints" leaves it."""
    import torch

    weights = root / "merlin" / "models" / "checkpoints" / \
        "resnet_gpt2_best_stanford_report_generation_average.pt"
    weights.parent.mkdir(parents=True)
    torch.save({"encode_image.vision_model.features.0.weight": torch.zeros(4, 3, 3, 7, 7),
                "adapter.linear2.weight": torch.zeros(16, 8),
                "decode_text.text_decoder.base_model.model.model.embed_tokens.weight":
                    torch.zeros(100, 16)}, weights)
    (root / "merlin" / "__init__.py").write_text("")
    repo = root / "checkpoints" / "models--StanfordAIMI--RadLLaMA-7b"
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text("4632c08")
    (repo / "snapshots" / "4632c08").mkdir(parents=True)
    # RadLLaMA-7b's published config, in small: no grouped KV heads, 4,096 positions
    (repo / "snapshots" / "4632c08" / "config.json").write_text(json.dumps(
        {**TINY_LLAMA, "max_position_embeddings": 4096}))
    return {"report_checkpoint": str(weights), "radllama_cache": str(root / "checkpoints")}


MERLIN_CHECKPOINT_PARAMETERS = 1764 + 128 + 1600
