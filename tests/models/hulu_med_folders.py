"""Hulu-Med's two code packages and its checkpoints, in small.

``write_code_dir``: a ``src`` folder with ``hulumed`` and ``hulumed_qwen3`` as the authors lay them
out (``mm_utils.get_model_name_from_path``, ``model.load_pretrained_model(model_path, model_base,
model_name, device_map=..., attn_implementation=...)``, ``model.processor.HulumedProcessor``).
Their loaders are stand-ins written here: they read config.json and load transformers' own
``Qwen2ForCausalLM`` / ``Qwen3ForCausalLM`` from the folder, which is what the authors' classes
subclass, so a checkpoint of one layout loaded through the other package gets transformers' real
missing/unexpected names (and only a warning from it).

``write_checkpoint``: a folder as the original checkpoints are published: ``config.json`` with
``model_type: hulumed_qwen2`` and ``HulumedQwen2ForCausalLM`` for both sizes, sharded safetensors
with their index, tokenizer files, ``generation_config.json``.
"""

from __future__ import annotations

import json
from pathlib import Path

LOADER = '''import json, os

import transformers

CALLS = []


def load_pretrained_model(model_path, model_base, model_name, load_8bit=False, load_4bit=False,
                          device_map="cuda", **kwargs):
    CALLS.append({{"model_path": model_path, "device_map": device_map, **kwargs}})
    fields = json.load(open(os.path.join(model_path, "config.json")))
    fields = {{k: v for k, v in fields.items() if k not in ("model_type", "architectures")}}
    config = transformers.{base}Config(**fields)
    config._attn_implementation = kwargs.pop("attn_implementation", "flash_attention_2")
    model = transformers.{base}ForCausalLM.from_pretrained(model_path, config=config)
    model.config.model_type = "hulumed_qwen2"
    tokenizer = transformers.AutoTokenizer.from_pretrained(model_path)
    return tokenizer, model, None, 2048
'''

PROCESSOR = '''class HulumedProcessor:
    def __init__(self, image_processor, tokenizer):
        self.image_processor, self.tokenizer = image_processor, tokenizer
'''

MM_UTILS = '''def get_model_name_from_path(model_path):
    parts = model_path.strip("/").split("/")
    return parts[-1]
'''


def write_code_dir(root: Path) -> Path:
    for package, base in (("hulumed", "Qwen2"), ("hulumed_qwen3", "Qwen3")):
        (root / package / "model").mkdir(parents=True)
        (root / package / "__init__.py").write_text("")
        (root / package / "mm_utils.py").write_text(MM_UTILS)
        (root / package / "model" / "__init__.py").write_text(LOADER.format(base=base))
        (root / package / "model" / "processor.py").write_text(PROCESSOR)
    return root


def write_checkpoint(folder: Path, base: str) -> Path:
    """A tiny ``base`` ("Qwen2" or "Qwen3") checkpoint in the original Hulu-Med layout."""
    import torch
    import transformers
    from support.adapter_helpers import WORDS

    tokenizer = transformers.Qwen2Tokenizer().train_new_from_iterator([" ".join(WORDS)],
                                                                     vocab_size=200)
    config = getattr(transformers, f"{base}Config")(
        vocab_size=len(tokenizer), hidden_size=16, intermediate_size=32, num_hidden_layers=2,
        num_attention_heads=2, num_key_value_heads=2, head_dim=8, max_position_embeddings=256,
        tie_word_embeddings=False)
    torch.manual_seed(0)
    model = getattr(transformers, f"{base}ForCausalLM")(config)
    model.save_pretrained(folder, max_shard_size="20KB")  # sharded, with its index
    tokenizer.save_pretrained(folder)
    published = json.loads((folder / "config.json").read_text())
    published.update(model_type="hulumed_qwen2", architectures=["HulumedQwen2ForCausalLM"])
    (folder / "config.json").write_text(json.dumps(published, indent=1))
    return folder
