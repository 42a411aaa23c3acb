"""One prefill per volume for transformers models: the prompt prefix that a volume's questions
share (instruction, image tokens, the text before the question) is run through the model once,
and its key-value cache is copied for each question, which then prefills only its own tokens.

The shared prefix is found on the token ids themselves (the longest common prefix of the
volume's encoded prompts), so a chat template or tokenizer that merges text across the boundary
cannot make two different prompts share a cache. It must reach past the last image token (the
image features are computed in the prefix only); otherwise, and for a volume with one question,
each question is generated on its own, exactly as before. In float32 the greedy outputs are
those of the per-question path (tests/models/test_prefix_cache.py asserts it on tiny Gemma 3 and
Qwen2.5-VL); in bfloat16 the measured agreement is stated in the models README.

The prefix's forward keeps the logits of its last token only (``logits_to_keep=1``, called
``num_logits_to_keep`` before transformers 4.50): nothing reads the others, and for MedGemma's
~22.5k-token prefix and 262k vocabulary they alone would be ~12 GB in bfloat16. Where generate
cannot continue from a given cache (a checkpoint whose generation config names a cache
implementation that generate then builds itself), the prefix is not shared: one log line says so.
"""

from __future__ import annotations

import copy
import logging
from dataclasses import dataclass
from typing import Any

logger = logging.getLogger(__name__)
_REPORTED: set[str] = set()  # one log line per model class and reason


@dataclass(frozen=True)
class Generated:
    """One question's generation: its new token ids, the length of its prompt, and how many
    prompt tokens it computed (the shared prefix is counted on the volume's first question)."""

    new_tokens: Any
    prompt_tokens: int
    prefill_tokens: int


def shared_prefix_length(sequences: list[list[int]], image_tokens: set[int]) -> int:
    """Tokens every sequence starts with, leaving each at least one token of its own; 0 unless
    that prefix holds every image token of the prompts (then nothing is shared)."""
    if len(sequences) < 2:
        return 0
    shortest = min(len(s) for s in sequences)
    length = 0
    while length < shortest - 1 and all(s[length] == sequences[0][length] for s in sequences):
        length += 1
    last_image = max((i for i, t in enumerate(sequences[0]) if t in image_tokens), default=-1)
    return length if length > last_image else 0


def generate_per_volume(model: Any, encoded: list[dict[str, Any]], generate_kwargs: dict,
                        image_tokens: set[int], share_prefix: bool = True) -> list[Generated]:
    """Generate for each encoded prompt of one volume (``processor`` outputs, batch of one),
    prefilling their shared prefix once when ``share_prefix``."""
    import torch

    ids = [inputs["input_ids"][0].tolist() for inputs in encoded]
    shared = shared_prefix_length(ids, image_tokens) if share_prefix and \
        cache_extensible(model, generate_kwargs) else 0
    cache = prefill(model, encoded[0], shared) if shared else None
    results = []
    for index, inputs in enumerate(encoded):
        length = inputs["input_ids"].shape[1]
        if cache is not None:  # the images are in the cache: only token-aligned inputs go on
            inputs = {**token_aligned(inputs), cache_keyword(model): copy.deepcopy(cache)}
        with torch.inference_mode():
            output = model.generate(**inputs, **generate_kwargs)
        computed = length - shared + (shared if index == 0 else 0)
        results.append(Generated(output[0, length:], length, computed))
    return results


def cache_extensible(model: Any, generate_kwargs: dict) -> bool:
    """Whether ``generate`` accepts a cache built outside it. It refuses one whenever a cache
    implementation is configured, except ``hybrid`` from transformers 4.56 on (which then drops
    that default of sliding-window checkpoints such as Gemma 3); logged once per model class."""
    import transformers
    from packaging.version import Version

    implementation = generate_kwargs.get(
        "cache_implementation",
        getattr(getattr(model, "generation_config", None), "cache_implementation", None))
    if implementation is None or (implementation == "hybrid" and Version(
            transformers.__version__) >= Version("4.56")):
        return True
    key = f"{type(model).__name__}:{implementation}"
    if key not in _REPORTED:
        _REPORTED.add(key)
        logger.info("share_prefix off for %s: its generation config names cache_implementation "
                    "%r, and transformers %s cannot continue such a cache in generate; each "
                    "question is prefilled whole", type(model).__name__, implementation,
                    transformers.__version__)
    return False


def prefill(model: Any, inputs: dict[str, Any], length: int) -> Any:
    """The key-value cache of the first ``length`` prompt tokens, images included, computing
    the logits of the last of them only."""
    import torch

    prefix = {**inputs, **{key: value[:, :length] for key, value in token_aligned(inputs).items()}}
    _forget_rope_deltas(model)
    with torch.inference_mode():
        output = model(**prefix, use_cache=True, **_last_logits_only(model))
    return output[cache_keyword(model)] if cache_keyword(model) in output else output[1]


def _last_logits_only(model: Any) -> dict[str, int]:
    """``logits_to_keep=1`` (``num_logits_to_keep`` before transformers 4.50) where the model's
    forward takes it; nothing otherwise."""
    import inspect

    parameters = inspect.signature(model.forward).parameters
    for keyword in ("logits_to_keep", "num_logits_to_keep"):
        if keyword in parameters:
            return {keyword: 1}
    return {}


def _forget_rope_deltas(model: Any) -> None:
    """Qwen-VL models keep the offset of text positions past the images (``rope_deltas``) from
    their last prefill and reuse it once a cache exists; a text-only prefix (the blind control)
    computes none, so a previous volume's offset would shift it. Cleared before every prefix."""
    inner = getattr(model, "model", None)
    if getattr(inner, "rope_deltas", None) is not None:
        inner.rope_deltas = None


def token_aligned(inputs: dict[str, Any]) -> dict[str, Any]:
    """Inputs with one entry per prompt token (ids, attention mask, token types)."""
    shape = tuple(inputs["input_ids"].shape)
    return {key: value for key, value in inputs.items() if tuple(value.shape[:2]) == shape}


def cache_keyword(model: Any) -> str:
    """What this transformers version calls the key-value cache (``cache`` from 5.x on)."""
    import inspect

    return "cache" if "cache" in inspect.signature(model.forward).parameters else \
        "past_key_values"
