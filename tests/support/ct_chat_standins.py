"""Stand-ins for what CT-CHAT's default loader (``ct_chat.load_ct_chat``) imports, in the authors'
module layout and with their call signatures, written here (neither package is on PyPI):

- CT-CLIP's ``transformer_maskgit.CTViT`` (ibrahimethemhamamci/CT-CLIP@a2a155c
  transformer_maskgit/ctvit.py): the constructor's keywords; ``load(path)`` reads a state dict
  and loads it strictly; ``forward(video, return_encoded_tokens=True)`` gives one ``dim`` token
  per temporal x spatial x spatial patch, ``(b, t, h, w, dim)``. A linear patch embedding stands
  in for its spatial and temporal transformers.
- CT-CHAT's ``llava`` (ibrahimethemhamamci/CT-CHAT@33c9b97): ``mm_utils.get_model_name_from_path``
  and ``model.builder.load_pretrained_model(model_path, model_base, model_name, ...,
  device=...)`` returning ``(tokenizer, model, image_processor, context_len)``. The model is a
  Llama with LLaVA's multimodal ``generate``: the image's CTViT tokens flattened
  (``encode_images``: ``images.flatten(1, 3)``), projected by ``mm_projector`` (one linear layer,
  where the published model has an attention pooler), put where the prompt has -200, then
  ``generate(inputs_embeds=...)``.

``write_ct_chat`` builds both code folders and a tiny checkpoint (a word tokenizer with the
llama3 conversation's special tokens, random weights) and CTViT's weights file.
"""

from __future__ import annotations

from pathlib import Path

CTVIT = '''import torch
from torch import nn


class CTViT(nn.Module):
    def __init__(self, *, dim, codebook_size, image_size, patch_size, temporal_patch_size,
                 spatial_depth, temporal_depth, dim_head=64, heads=8, **kwargs):
        super().__init__()
        self.patch_size, self.temporal_patch_size = patch_size, temporal_patch_size
        self.to_patch_emb = nn.Linear(temporal_patch_size * patch_size * patch_size, dim)

    def load(self, path):
        self.load_state_dict(torch.load(str(path), map_location="cpu"))

    def forward(self, video, return_encoded_tokens=False, **kwargs):
        assert return_encoded_tokens
        b, _, f, h, w = video.shape
        t, p = self.temporal_patch_size, self.patch_size
        x = video.reshape(b, f // t, t, h // p, p, w // p, p).permute(0, 1, 3, 5, 2, 4, 6)
        return self.to_patch_emb(x.reshape(b, f // t, h // p, w // p, t * p * p))
'''

MM_UTILS = '''def get_model_name_from_path(model_path):
    parts = model_path.strip("/").split("/")
    if parts[-1].startswith("checkpoint-"):
        return parts[-2] + "_" + parts[-1]
    return parts[-1]
'''

BUILDER = '''import torch
from transformers import AutoTokenizer, LlamaForCausalLM


class LlavaLlamaForCausalLM(LlamaForCausalLM):
    def __init__(self, config):
        super().__init__(config)
        self.mm_projector = torch.nn.Linear(config.mm_hidden_size, config.hidden_size)

    @torch.no_grad()
    def generate(self, inputs=None, images=None, image_sizes=None, **kwargs):
        features = self.mm_projector(images.flatten(1, 3).to(self.dtype))[0]
        ids = inputs[0]
        at = int((ids == -200).nonzero()[0, 0])
        embed = self.model.embed_tokens
        embeds = torch.cat([embed(ids[:at]), features, embed(ids[at + 1:])])[None]
        mask = torch.ones(embeds.shape[:2], dtype=torch.long, device=embeds.device)
        return super().generate(inputs_embeds=embeds, attention_mask=mask, **kwargs)


def load_pretrained_model(model_path, model_base, model_name, load_8bit=False, load_4bit=False,
                          device_map="auto", device="cuda", **kwargs):
    tokenizer = AutoTokenizer.from_pretrained(model_path, use_fast=False)
    model = LlavaLlamaForCausalLM.from_pretrained(model_path, torch_dtype=torch.float16)
    return tokenizer, model.to(device), None, 2048
'''

SPECIALS = ("<|begin_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>",
            "<provided>", "<short_answer>")
CTVIT_DIM, PATCH, TEMPORAL_PATCH = 512, 20, 10  # as load_ct_chat builds CTViT


def write_ct_chat(root: Path) -> dict[str, str]:
    """``{"code_dir", "ctvit_code_dir", "model_path", "encoder_path"}`` of a tiny CT-CHAT."""
    import torch
    from transformers import LlamaConfig

    from support.adapter_helpers import word_tokenizer

    files = {root / "CT-CHAT" / "llava" / "__init__.py": "",
             root / "CT-CHAT" / "llava" / "mm_utils.py": MM_UTILS,
             root / "CT-CHAT" / "llava" / "model" / "__init__.py": "",
             root / "CT-CHAT" / "llava" / "model" / "builder.py": BUILDER,
             root / "CT-CLIP" / "transformer_maskgit" / "__init__.py": CTVIT}
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    import sys

    sys.path.insert(0, str(root / "CT-CHAT"))
    try:
        from llava.model.builder import LlavaLlamaForCausalLM
    finally:
        sys.path.remove(str(root / "CT-CHAT"))
        for name in [n for n in sys.modules if n == "llava" or n.startswith("llava.")]:
            del sys.modules[name]
    tokenizer = word_tokenizer(SPECIALS)
    model_path = root / "llava-llama3.1-8b-ct-chat"
    tokenizer.save_pretrained(model_path)
    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=16, intermediate_size=32,
                         num_hidden_layers=1, num_attention_heads=2, num_key_value_heads=2,
                         bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
                         pad_token_id=tokenizer.pad_token_id, mm_hidden_size=CTVIT_DIM)
    LlavaLlamaForCausalLM(config).save_pretrained(model_path)
    encoder = root / "clip_visual_encoder.pth"
    torch.save({"to_patch_emb.weight": torch.randn(CTVIT_DIM, TEMPORAL_PATCH * PATCH * PATCH)
                * 0.02, "to_patch_emb.bias": torch.zeros(CTVIT_DIM)}, encoder)
    return {"code_dir": str(root / "CT-CHAT"), "ctvit_code_dir": str(root / "CT-CLIP"),
            "model_path": str(model_path), "encoder_path": str(encoder)}
