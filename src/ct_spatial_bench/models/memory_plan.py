"""Will a model fit the GPU it asks for? Weights at the chosen precision plus the key-value cache
of its longest prompt, beside the memory of the requested GPU type, before any job starts.

- parameters: counted from the checkpoint's own files without loading a tensor (safetensors
  headers, or ``pytorch_model.bin`` memory-mapped; summed over the parts an adapter names, e.g.
  a vision tower kept in its own folder), else estimated from config.json's sizes;
- prompt: the adapter's image tokens for its input spec (``ModelAdapter.image_tokens``) plus
  its text (``ModelAdapter.text_tokens``): ``TEXT_TOKENS`` for the chat template, a short
  instruction and the longest question, and where an adapter's prompt holds more (CT-CHAT's
  system prompt, VILA-M3's model cards and second turn) that text counted by the checkpoint's
  own tokenizer (``token_counter``), plus its new-token budget;
- key-value cache: 2 (keys, values) x layers x KV heads x head size x tokens x bytes, for one
  sequence (the engine decodes one question at a time);
- ``OVERHEAD_GIB`` for the CUDA context, kernels' workspace and activations of one step.

The estimate is a floor, not a measurement (``benchmarks/gpu_smoke.py`` prints the measured peak
beside it): a job it refuses cannot fit; one it accepts may still need headroom.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

GIB = 2**30
TEXT_TOKENS = 256  # instruction + chat template + the longest CT-SpatialVQA question, rounded up
# the longest CT-SpatialVQA question is 152 bytes (spatial_qa_filtered_full_nifti.jsonl), so at
# most 152 tokens: what a prompt that repeats the question adds for it
QUESTION_TOKENS = 152
OVERHEAD_GIB = 1.0
# memory per GPU as SLURM's gres types usually name them (GiB the driver reports, rounded down)
GPU_MEMORY_GIB = {"t4": 15, "v100": 31, "v100_32g": 31, "a10": 22, "a30": 23, "l4": 22,
                  "a40": 44, "l40": 44, "l40s": 44, "a6000": 47, "rtx6000": 23, "a100": 39,
                  "a100_40g": 39, "a100_80g": 79, "a100-80": 79, "h100": 79, "h100_80g": 79,
                  "h200": 139, "b200": 178}
BYTES = {"float32": 4, "bfloat16": 2, "float16": 2, "int8": 1, "int4": 0.5}


@dataclass(frozen=True)
class Architecture:
    parameters: int
    layers: int
    kv_heads: int
    head_dim: int
    context: int | None  # max_position_embeddings


def text_config(config: dict[str, Any]) -> dict[str, Any]:
    """The language model's part of a (possibly multimodal) config."""
    for key in ("text_config", "llm_config", "language_config"):
        if isinstance(config.get(key), dict):
            return {**config, **config[key]}
    return config


def config_parameters(config: dict[str, Any]) -> int:
    """A decoder's parameters from its sizes: embeddings (and an untied head), per layer the
    q/k/v/o projections, a gated MLP and two norms, a final norm. Vision towers are not counted
    (their configs differ per family): a floor."""
    c = text_config(config)
    hidden, layers, vocab = c["hidden_size"], c["num_hidden_layers"], c["vocab_size"]
    heads = c["num_attention_heads"]
    kv_heads = c.get("num_key_value_heads") or heads
    head_dim = c.get("head_dim") or hidden // heads
    attention = hidden * head_dim * (2 * heads + 2 * kv_heads)
    mlp = 3 * hidden * c["intermediate_size"]
    embeddings = vocab * hidden * (1 if c.get("tie_word_embeddings") else 2)
    return embeddings + layers * (attention + mlp + 2 * hidden) + hidden


def counted_parameters(source: Path | list[Path]) -> int | None:
    """Elements of every tensor in the checkpoint files, read from headers (None: no weights).
    ``source``: a folder, one file, or a list of them where a model keeps its parts apart (a
    vision tower's folder, an encoder's .pth): the sum, None if any part holds no weights."""
    if isinstance(source, (list, tuple)):
        counts = [counted_parameters(Path(part)) for part in source]
        return None if not counts or None in counts else sum(counts)
    folder = Path(source)
    files = sorted(folder.glob("*.safetensors")) if folder.is_dir() else \
        [folder] * (folder.suffix == ".safetensors")
    if files:
        return sum(_safetensors_elements(f) for f in files)
    binary = folder / "pytorch_model.bin" if folder.is_dir() else folder
    if binary.is_file():
        import torch

        state = torch.load(str(binary), map_location="cpu", mmap=True, weights_only=True)
        unique = {t.untyped_storage().data_ptr(): t.numel() for t in state.values()}
        return sum(unique.values())
    return None


def _safetensors_elements(path: Path) -> int:
    """From the header alone: 8 bytes of length, then JSON of each tensor's shape."""
    with open(path, "rb") as handle:
        size = int.from_bytes(handle.read(8), "little")
        header = json.loads(handle.read(size))
    return sum(math.prod(entry["shape"]) for name, entry in header.items()
               if name != "__metadata__")


def architecture(config: dict[str, Any], folder: Path | list[Path] | None) -> Architecture:
    c = text_config(config)
    heads = c["num_attention_heads"]
    counted = counted_parameters(folder) if folder is not None else None
    return Architecture(
        parameters=counted if counted is not None else config_parameters(config),
        layers=c["num_hidden_layers"], kv_heads=c.get("num_key_value_heads") or heads,
        head_dim=c.get("head_dim") or c["hidden_size"] // heads,
        context=c.get("max_position_embeddings") or c.get("max_sequence_length"))


TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "tokenizer.model")


def token_counter(folders: list[Path | None]) -> Callable[[str], int]:
    """Counts a text's tokens (no special tokens added) with the tokenizer of the first of
    ``folders`` one loads from (local files only). Where none does, its UTF-8 bytes: no token of
    a byte-level BPE (Llama 3) or of a SentencePiece with byte fallback (Llama 2) is shorter than
    a byte, so that is an upper bound."""
    for folder in folders:
        if folder is None or not any((Path(folder) / name).is_file() for name in TOKENIZER_FILES):
            continue
        try:
            from transformers import AutoTokenizer

            tokenizer = AutoTokenizer.from_pretrained(str(folder), local_files_only=True)
        except Exception:  # noqa: BLE001, S112 - no tokenizer here: the next, else the bound
            continue
        return lambda text: len(tokenizer(text, add_special_tokens=False).input_ids)
    return lambda text: len(text.encode("utf-8"))


@dataclass(frozen=True)
class MemoryPlan:
    model: str
    parameters: int
    precision: str
    prompt_tokens: int | None  # None: the adapter cannot say for its input
    new_tokens: int
    layers: int
    kv_heads: int
    head_dim: int
    context: int | None
    gpu_type: str | None
    # rows decoded at once (batch_decode): None where the questions per volume are unknown and
    # max_batch is not set, so the batch has no bound to plan for
    rows: int | None = 1

    @property
    def weights_gib(self) -> float:
        return self.parameters * BYTES[self.precision] / GIB

    @property
    def kv_gib(self) -> float:
        """One row's cache (prompt + answer); batched, the prefill kept for the next batch plus
        a full copy per row (the expanded cache's first concatenation copies every row)."""
        tokens = (self.prompt_tokens or 0) + self.new_tokens
        if (self.rows or 1) > 1:
            tokens = (self.prompt_tokens or 0) + self.rows * tokens
        kv_bytes = BYTES[self.precision] if self.precision in ("float32", "float16") else 2
        return 2 * self.layers * self.kv_heads * self.head_dim * tokens * kv_bytes / GIB

    @property
    def total_gib(self) -> float:
        return self.weights_gib + self.kv_gib + OVERHEAD_GIB

    @property
    def gpu_gib(self) -> int | None:
        return GPU_MEMORY_GIB.get((self.gpu_type or "").lower())

    def line(self) -> str:
        prompt = ("prompt length unknown" if self.prompt_tokens is None
                  else f"KV {self.kv_gib:.1f} GiB for {self.prompt_tokens:,} + "
                       f"{self.new_tokens} tokens{self._rows_said()}")
        gpu = (f"{self.gpu_type} has {self.gpu_gib} GiB" if self.gpu_gib is not None
               else f"GPU type {self.gpu_type or 'not set'}: not compared")
        return (f"memory {self.model}: ~{self.total_gib:.1f} GiB = weights "
                f"{self.weights_gib:.1f} GiB ({self.parameters / 1e9:.2f}B x {self.precision}) "
                f"+ {prompt} + {OVERHEAD_GIB:.0f} GiB overhead; {gpu}")

    def _rows_said(self) -> str:
        if self.rows is None:
            return (" for one question (its questions are decoded together, unbounded: set "
                    f"{self.model}.inference.config.max_batch to plan the batch)")
        return f" x {self.rows} questions decoded together" if self.rows > 1 else ""

    def problems(self) -> list[str]:
        found = []
        if self.gpu_gib is not None and self.total_gib > self.gpu_gib:
            found.append(f"{self.model} needs about {self.total_gib:.1f} GiB of GPU memory "
                         f"(weights {self.weights_gib:.1f} + KV cache {self.kv_gib:.1f} + "
                         f"{OVERHEAD_GIB:.0f}) but a {self.gpu_type} has {self.gpu_gib} GiB: "
                         f"ask for a larger GPU type ({self.model}.resources.gpu_type)"
                         + (f", lower {self.model}.inference.config.max_batch"
                            if (self.rows or 1) > 1 else "")
                         + " or quantize (quantization.precision)")
        tokens = (self.prompt_tokens or 0) + self.new_tokens
        if self.prompt_tokens is not None and self.context and tokens > self.context:
            found.append(f"{self.model}'s longest prompt ({self.prompt_tokens:,} + "
                         f"{self.new_tokens} new tokens) exceeds its context of "
                         f"{self.context:,} tokens (max_position_embeddings)")
        return found


CT_RATE_SIDE = 512  # in-plane pixels of a CT-RATE slice, where a spec keeps the volume's size


def slice_side(spec: Any) -> int:
    """The longer in-plane side of a spec's slices (its shape's, else CT-RATE's)."""
    shape = getattr(spec, "shape", None)
    sides = [s for s in (shape or ())[-2:] if s]
    return max(sides) if sides else CT_RATE_SIDE


def merged_patch_tokens(side: int, patch: int, merge: int) -> int:
    """Tokens of one square image for a ViT of ``patch`` pixels whose ``merge`` x ``merge``
    neighbours are merged (Qwen2-VL's smart_resize rounds the side to a multiple of both)."""
    per_side = max(1, round(side / (patch * merge)))
    return per_side * per_side


def precision_of(adapter_cls: type, config: dict[str, Any]) -> str:
    """The weights' precision on a GPU: the quantization's, else the configured dtype, else the
    adapter's default, else bfloat16 (what a CUDA run picks)."""
    quantized = (config.get("quantization") or {}).get("precision")
    if quantized in BYTES:
        return quantized
    return str(config.get("dtype") or getattr(adapter_cls, "default_dtype", None) or "bfloat16")


def new_token_budget(adapter_cls: type, config: dict[str, Any]) -> int:
    settings = {**getattr(adapter_cls, "generation_defaults", {}),
                **(config.get("generation") or {})}
    return int(settings.get("max_new_tokens") or settings.get("max_tokens") or 0)


def decoded_rows(adapter_cls: type, config: dict[str, Any],
                 questions_per_volume: int | None) -> int | None:
    """How many questions share a decoding batch at most (as ``batch_decode`` groups them):
    1 unless the adapter batches with its prefix shared; else ``max_batch`` capped by the most
    questions on one volume; None where neither bound is known."""
    if not (adapter_cls.batches_questions and config.get("share_prefix", True)
            and config.get("batch_questions", True)):
        return 1
    bounds = [int(b) for b in (config.get("max_batch"), questions_per_volume) if b]
    return max(1, min(bounds)) if bounds else None


def plan_for(name: str, adapter_cls: type, params: dict[str, Any],
             spec: Any, questions_per_volume: int | None = None) -> MemoryPlan | None:
    """The plan of one model's inference parameters (``<name>.inference`` plus its
    ``resources``) for its adapter class (the caller asks the registry); None where its
    checkpoint is not on this machine to read. ``questions_per_volume``: the most questions
    one volume has in the QA (bounds a batch), None where the QA is not known yet."""
    inference = params.get("inference") or {}
    config = inference.get("config") or {}
    sources = adapter_cls.memory_sources(config)
    if sources is None:
        return None
    config_file, weights = sources
    checkpoint_config = json.loads(Path(config_file).read_text())
    shape = architecture(checkpoint_config, weights)
    image = adapter_cls.image_tokens(spec, checkpoint_config) if spec is not None else 0
    return MemoryPlan(
        model=name, parameters=shape.parameters, precision=precision_of(adapter_cls, config),
        prompt_tokens=None if image is None else image + adapter_cls.text_tokens(config),
        new_tokens=new_token_budget(adapter_cls, config), layers=shape.layers,
        kv_heads=shape.kv_heads, head_dim=shape.head_dim, context=shape.context,
        gpu_type=(params.get("resources") or {}).get("gpu_type"),
        rows=decoded_rows(adapter_cls, config, questions_per_volume))


def local_checkpoint(value: str | None, revision: str | None = None) -> Path | None:
    """A checkpoint folder on this machine: the path, or a hub id's cached snapshot (never a
    download); None when neither."""
    import os

    if not value:
        return None
    if os.path.exists(os.path.expanduser(str(value))):
        return Path(os.path.expanduser(str(value)))
    try:
        from huggingface_hub import try_to_load_from_cache

        cached = try_to_load_from_cache(str(value), "config.json", revision=revision)
    except Exception:  # noqa: BLE001 - not a hub id: nothing cached under it
        return None
    return Path(cached).parent if isinstance(cached, str) else None
