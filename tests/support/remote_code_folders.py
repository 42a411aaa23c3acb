"""Tiny ``trust_remote_code`` checkpoints in the shape of M3D-LaMed's and Med3DVLM's.

Each folder holds what their hub repositories hold: ``config.json`` with an ``auto_map``, a
``configuration_*.py`` and ``modeling_*.py``, safetensors weights and a tokenizer with the
``<im_patch>`` token. The model code is a small stand-in written here, on the same base classes as
the authors' (``Phi3ForCausalLM`` for M3D-LaMed-Phi-3, ``Qwen2ForCausalLM`` for Med3DVLM), with
their ``generate`` signature and the same use of it: the image features replace the embeddings
after the first token, then the language model decodes. Every call is recorded on the model.
"""

from __future__ import annotations

import json
from pathlib import Path

from support.adapter_helpers import WORDS

CONFIGURATION = '''from transformers import {base}Config


class {name}Config({base}Config):
    model_type = "{model_type}"
'''

MODELING = '''import torch
from transformers import {base}ForCausalLM

from .configuration_{module} import {name}Config


class {name}ForCausalLM({base}ForCausalLM):
    """Stand-in for the authors' model: a one-layer image encoder pooled to proj_out_num tokens."""

    config_class = {name}Config

    def __init__(self, config):
        super().__init__(config)
        self.image_encoder = torch.nn.Linear(1, config.hidden_size)
        self.received = []  # what each generate() call was given

    def get_model(self):
        return self.model

    @torch.no_grad()
    def generate(self, images=None, inputs=None, {extra}**kwargs):
        self.received.append({{"images": images, "inputs": inputs, "kwargs": dict(kwargs)}})
        tokens = getattr(self.config, "proj_out_num", 256)
        pooled = torch.nn.functional.adaptive_avg_pool1d(images.flatten(1)[:, None], tokens)
        features = self.image_encoder(pooled.transpose(1, 2))  # as given: no cast
        embeds = self.get_model().embed_tokens(inputs)
        embeds = torch.cat((embeds[:, :1], features, embeds[:, tokens + 1:]), dim=1)
        return super().generate(inputs_embeds=embeds, **kwargs)
'''

# name, module, model_type, base class, extra generate() parameters, tokenizer, BOS added
FAMILIES = {
    "m3d": ("LamedLlama", "lamed_llama", "lamed_llama", "Llama", "seg_enable=False, ",
            "LlamaTokenizer", True),  # M3D-LaMed-Llama-2-7B
    "med3dvlm": ("VLMQwen", "vlm_qwen", "vlm_qwen", "Qwen2", "", "Qwen2Tokenizer", False),
}


def build_remote_code_model(folder: Path, family: str, sentencepiece: bool = False,
                            **config_extra) -> Path:
    """Write ``family``'s tiny remote-code checkpoint into ``folder`` (``config_extra`` goes into
    config.json, e.g. ``proj_out_num``). ``sentencepiece``: the tokenizer as LLaMA checkpoints
    publish it (tokenizer.model, which the slow tokenizer of transformers 4.x reads) instead of
    a tokenizers-library file."""
    import transformers
    from transformers import AutoConfig, AutoModelForCausalLM

    name, module, model_type, base, extra, tokenizer_class, adds_bos = FAMILIES[family]
    folder.mkdir(parents=True, exist_ok=True)
    fields = {"name": name, "module": module, "model_type": model_type, "base": base,
              "extra": extra}
    (folder / f"configuration_{module}.py").write_text(CONFIGURATION.format(**fields))
    (folder / f"modeling_{module}.py").write_text(MODELING.format(**fields))
    if sentencepiece:
        from support.adapter_helpers import write_sentencepiece_tokenizer

        vocab = write_sentencepiece_tokenizer(folder, ["<im_patch>"], add_bos_token=adds_bos)
        special = {"bos_token_id": 1, "eos_token_id": 2, "pad_token_id": None}
    else:
        tokenizer = getattr(transformers, tokenizer_class)().train_new_from_iterator(
            [" ".join(WORDS)], vocab_size=200, new_special_tokens=["<im_patch>"])
        tokenizer.add_bos_token = adds_bos
        tokenizer.save_pretrained(folder)
        vocab = len(tokenizer)
        special = {f"{key}_id": getattr(tokenizer, f"{key}_id")  # None where it has none
                   for key in ("bos_token", "eos_token", "pad_token")}
    config = {"architectures": [f"{name}ForCausalLM"], "model_type": model_type,
              "auto_map": {"AutoConfig": f"configuration_{module}.{name}Config",
                           "AutoModelForCausalLM": f"modeling_{module}.{name}ForCausalLM"},
              "vocab_size": vocab, "hidden_size": 16, "intermediate_size": 32,
              "num_hidden_layers": 1, "num_attention_heads": 2, "num_key_value_heads": 2,
              "max_position_embeddings": 512, **special,
              **config_extra}
    (folder / "config.json").write_text(json.dumps(config, indent=1))
    import torch

    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_config(
        AutoConfig.from_pretrained(folder, trust_remote_code=True), trust_remote_code=True)
    model.save_pretrained(folder)  # weights; the code files stay as written
    return folder
