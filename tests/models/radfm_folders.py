"""RadFM as its authors publish it, in small.

``Quick_demo/`` (the code folder): ``Model/RadFM/multimodality_model.py`` with
``MultiLLaMAForCausalLM(lang_model_path)``, whose ``__init__`` calls
``LlamaForCausalLM.from_pretrained(lang_model_path)`` and shares the input embeddings with its
embedding layer, and ``generate(lang_x, vision_x)`` calling the language model's ``generate(
inputs_embeds=..., max_new_tokens=200, top_k=50)`` as the authors' does. The model code is a
stand-in written here (one linear layer over the pooled image instead of the 3D ViT + perceiver).
``Quick_demo/Language_files/``: config.json, tokenizer.model (a real SentencePiece model),
tokenizer_config.json, special_tokens_map.json and no weights, as in the repository; the weights
are one ``pytorch_model.bin`` in a folder of their own, as on the hub.
"""

from __future__ import annotations

import json
from pathlib import Path

MODEL_CODE = '''import torch
from torch import nn
from transformers.models.llama import LlamaForCausalLM


class MyEmbedding(nn.Module):
    def __init__(self, hidden):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(1, hidden))
        self.vision_proj = nn.Linear(3, hidden)


class MultiLLaMAForCausalLM(nn.Module):
    def __init__(self, lang_model_path):
        super().__init__()
        self.lang_model = LlamaForCausalLM.from_pretrained(lang_model_path)
        self.embedding_layer = MyEmbedding(self.lang_model.config.hidden_size)
        self.embedding_layer.weight = self.lang_model.get_input_embeddings().weight

    def generate(self, lang_x, vision_x):
        with torch.no_grad():
            weight = self.embedding_layer.weight
            embeds = nn.functional.embedding(lang_x.clamp(max=weight.shape[0] - 1), weight)
            image = self.embedding_layer.vision_proj(vision_x.mean(dim=(-3, -2, -1)))
            embeds = torch.cat([image.to(embeds.dtype), embeds], dim=1)
            return self.lang_model.generate(inputs_embeds=embeds, max_new_tokens=200, top_k=50)
'''


def write_language_files(folder: Path) -> Path:
    from support.adapter_helpers import write_sentencepiece_tokenizer

    folder.mkdir(parents=True)
    write_sentencepiece_tokenizer(folder, bos_token="", eos_token="", unk_token="")
    (folder / "special_tokens_map.json").write_text("{}")
    # its published config, in small: bos 0 / eos 1 as the authors' file says
    (folder / "config.json").write_text(json.dumps(
        {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "bos_token_id": 0,
         "eos_token_id": 1, "pad_token_id": -1, "hidden_act": "silu", "hidden_size": 16,
         "intermediate_size": 32, "num_attention_heads": 2, "num_hidden_layers": 1,
         "max_sequence_length": 2048, "rms_norm_eps": 1e-6, "tie_word_embeddings": False,
         "torch_dtype": "float32", "vocab_size": 3300}))  # ~80 + RadFM's 3202 image markers
    return folder


def write_radfm(root: Path) -> dict[str, Path]:
    """``{"code_dir", "language_files", "model_path"}`` of a tiny RadFM."""
    import sys

    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    code = root / "Quick_demo"
    (code / "Model" / "RadFM").mkdir(parents=True)
    (code / "Model" / "__init__.py").write_text("")
    (code / "Model" / "RadFM" / "__init__.py").write_text("")
    (code / "Model" / "RadFM" / "multimodality_model.py").write_text(MODEL_CODE)
    language = write_language_files(code / "Language_files")
    # the weights: the model as its code builds it, from a full LLaMA folder made elsewhere
    torch.manual_seed(0)
    full = root / "llama_full"
    llama = LlamaForCausalLM(LlamaConfig.from_pretrained(language))
    # transformers 4.45 refuses to save a generation config with the published pad_token_id -1;
    # the folder then gets none, as Language_files has none, and loads derive it from config.json
    llama.generation_config.pad_token_id = None
    llama.save_pretrained(full)
    (full / "generation_config.json").unlink()
    (full / "config.json").write_text((language / "config.json").read_text())
    sys.path.insert(0, str(code))
    try:
        from Model.RadFM.multimodality_model import MultiLLaMAForCausalLM

        model = MultiLLaMAForCausalLM(str(full))
    finally:
        sys.path.remove(str(code))
        for name in [m for m in sys.modules if m == "Model" or m.startswith("Model.")]:
            del sys.modules[name]
    (root / "RadFM").mkdir()
    torch.save(model.state_dict(), root / "RadFM" / "pytorch_model.bin")
    return {"code_dir": code, "language_files": language, "model_path": root / "RadFM"}
