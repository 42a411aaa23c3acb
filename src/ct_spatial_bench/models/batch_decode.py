"""A volume's questions decoded as one batch after their shared prefix.

The prefix (instruction, every image, the text before the question) is prefilled once, as in
``prefix_cache``; its key-value cache is then expanded to the batch as views of the one prefill
(no copy per question: the cache's first concatenation is the only copy). Each row continues
with its own question tokens, shorter ones padded *between* the prefix and the question
(attention mask 0 there), so every row's cache holds the same prefix at the same places.
``generate`` takes the positions from the attention mask (cumulative count of real tokens), so
a row's question and answer keep the positions they have when asked alone; Qwen-VL models add
the prefix's rope offset to those, which is the same for every row (from transformers 5; before,
their positions counted the padding, so there only equal-length questions are batched).

A sliding window counts cache slots, padding included; where the longest row (prefix, padding,
question, answer budget) could outgrow the window, only questions of the same token length share
a batch (no padding at all). That keeps float32 greedy outputs identical to asking each question
alone (tests/models/test_batch_decode.py) at a cost on long-prefix sliding-window models such as
MedGemma.

Each row stops at its own end: the moment a row emits an end-of-sequence token or reaches its
token budget its tokens are handed back (``generate`` runs in a worker thread and reports
finished rows through a stopping criterion that never stops anything itself), so the engine
checkpoints each answer as soon as it exists and a kill mid-batch loses only the unfinished rows.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Iterator
from typing import Any

from ct_spatial_bench.models.prefix_cache import (
    Generated,
    cache_extensible,
    cache_keyword,
    generate_per_volume,
    prefill,
    shared_prefix_length,
    token_aligned,
)

logger = logging.getLogger(__name__)
_EXPANDABLE_LAYERS = ("DynamicLayer", "DynamicSlidingWindowLayer")  # concatenate, never write


def generate_batched(model: Any, encoded: list[dict[str, Any]], generate_kwargs: dict,
                     image_tokens: set[int], max_batch: int | None = None,
                     ) -> Iterator[tuple[int, Generated]]:
    """``(question index, its generation)`` for each encoded prompt of one volume (``processor``
    outputs, batch of one), in the order the rows finish. Without a shared prefix (one question,
    or an image after the point where the prompts differ) each question is generated alone."""
    ids = [inputs["input_ids"][0].tolist() for inputs in encoded]
    shared = shared_prefix_length(ids, image_tokens) if cache_extensible(
        model, generate_kwargs) else 0
    if not shared:
        for index, inputs in enumerate(encoded):
            [generated] = generate_per_volume(model, [inputs], generate_kwargs, image_tokens)
            yield index, generated
        return
    cache = prefill(model, encoded[0], shared)
    budget = _new_token_budget(model, generate_kwargs)
    equal_lengths_only = _window_if_padding_matters(model, ids, budget) or \
        not positions_follow_the_mask(model)
    for rows in batches([len(s) - shared for s in ids], max_batch, equal_lengths_only):
        for row, generated in _decode_rows(model, [encoded[i] for i in rows], shared, cache,
                                           generate_kwargs, budget):
            index = rows[row]
            if index == 0:  # the shared prefix is counted on the volume's first question
                generated = Generated(generated.new_tokens, generated.prompt_tokens,
                                      generated.prefill_tokens + shared)
            yield index, generated


def batches(suffix_lengths: list[int], max_batch: int | None,
            equal_lengths_only: bool) -> list[list[int]]:
    """Question indices per batch, in question order, at most ``max_batch`` each; only questions
    of one suffix length together when ``equal_lengths_only``."""
    size = max(1, int(max_batch)) if max_batch else len(suffix_lengths)
    groups: dict[int, list[int]] = {}
    for index, length in enumerate(suffix_lengths):
        groups.setdefault(length if equal_lengths_only else 0, []).append(index)
    return [group[start:start + size] for group in groups.values()
            for start in range(0, len(group), size)]


def _decode_rows(model, rows, shared, cache, generate_kwargs, budget):
    """Generate for ``rows`` (encoded prompts sharing ``shared`` tokens) as one batch, yielding
    ``(row, Generated)`` as each row finishes."""
    import torch

    lengths = [inputs["input_ids"].shape[1] for inputs in rows]
    width = max(lengths) - shared
    batch = {key: torch.cat([_padded(inputs[key], shared, width) for inputs in rows])
             for key in token_aligned(rows[0])}
    if "attention_mask" not in batch:
        batch["attention_mask"] = torch.cat([_padded(torch.ones_like(inputs["input_ids"]), shared,
                                                     width) for inputs in rows])
    prompt_length = shared + width
    eos = _end_tokens(model, generate_kwargs)

    def run(report: Callable[[tuple[int, Generated]], None], cancel: threading.Event) -> None:
        from transformers import StoppingCriteriaList

        finished = _RowsFinished(prompt_length, eos, budget, cancel, lambda row, tokens: report(
            (row, Generated(tokens, lengths[row], width))))
        with torch.inference_mode():
            output = model.generate(**batch, **{cache_keyword(model): expanded(cache, len(rows))},
                                    stopping_criteria=StoppingCriteriaList([finished]),
                                    **generate_kwargs)
        for row in range(len(rows)):  # rows another criterion stopped (none under our settings)
            if row not in finished.done and not cancel.is_set():
                report((row, Generated(_until_end(output[row, prompt_length:], eos),
                                       lengths[row], width)))

    yield from _in_worker_thread(run)


def _padded(values: Any, shared: int, width: int) -> Any:
    """One row: the shared prefix, zeros, then the row's own tokens (``width`` after the prefix)."""
    import torch

    own = values[:, shared:]
    gap = values.new_zeros((1, width - own.shape[1]))
    return torch.cat([values[:, :shared], gap, own], dim=1)


def expanded(cache: Any, batch_size: int) -> Any:
    """A cache for ``batch_size`` rows that all start with ``cache`` (batch of one), which itself
    stays untouched for the next batch: views (``expand``) where the layers only ever
    concatenate, a copy per row otherwise."""
    import copy

    layers = getattr(cache, "layers", None)
    if layers is None or any(type(layer).__name__ not in _EXPANDABLE_LAYERS for layer in layers):
        copied = copy.deepcopy(cache)
        copied.batch_repeat_interleave(batch_size)
        return copied
    batch = copy.copy(cache)
    batch.layers = []
    for layer in layers:
        view = copy.copy(layer)
        view.keys = layer.keys.expand(batch_size, *layer.keys.shape[1:])
        view.values = layer.values.expand(batch_size, *layer.values.shape[1:])
        batch.layers.append(view)
    return batch


class _RowsFinished:
    """A stopping criterion that stops nothing (unless cancelled): it reports each row once, with
    its new tokens, at the step where it ends as ``generate``'s own criteria end it: an
    end-of-sequence token or the token budget."""

    def __init__(self, prompt_length, eos, budget, cancel, report) -> None:
        self.prompt_length, self.eos, self.budget = prompt_length, eos, budget
        self.cancel, self.report = cancel, report
        self.done: set[int] = set()

    def __call__(self, input_ids, scores, **kwargs):
        import torch

        new = input_ids.shape[1] - self.prompt_length
        last = input_ids[:, -1].tolist()
        for row, token in enumerate(last):
            if row not in self.done and (token in self.eos or (self.budget and new >= self.budget)):
                self.done.add(row)
                self.report(row, input_ids[row, self.prompt_length:].clone())
        return torch.full((input_ids.shape[0],), self.cancel.is_set(), dtype=torch.bool,
                          device=input_ids.device)


def _in_worker_thread(run: Callable) -> Iterator:
    """What ``run(report, cancel)`` reports, as it reports it; its exception re-raised here. When
    the consumer stops early, ``cancel`` ends the generation at its next step."""
    reports: queue.Queue = queue.Queue()
    cancel, end = threading.Event(), object()
    failure: list[BaseException] = []

    def target() -> None:
        try:
            run(reports.put, cancel)
        except BaseException as exc:  # noqa: BLE001 - handed to the consuming thread
            failure.append(exc)
        finally:
            reports.put(end)

    worker = threading.Thread(target=target, name="batch-decode", daemon=True)
    worker.start()
    try:
        while (item := reports.get()) is not end:
            yield item
        if failure:
            raise failure[0]
    finally:
        cancel.set()
        worker.join()


def _end_tokens(model: Any, generate_kwargs: dict) -> set[int]:
    value = generate_kwargs.get("eos_token_id", getattr(
        getattr(model, "generation_config", None), "eos_token_id", None))
    if value is None:
        return set()
    return {int(v) for v in (value if isinstance(value, (list, tuple)) else [value])}


def hit_token_limit(model: Any, generate_kwargs: dict, new_tokens: Any) -> bool | None:
    """Whether a row's decoding stopped because its budget ran out: ``max_new_tokens`` new
    tokens, the last of them not an end token (a row that ends exactly at the budget ended on its
    own). ``new_tokens`` as handed back here (cut after the first end token); None where no
    budget is known."""
    budget = _new_token_budget(model, generate_kwargs)
    if budget is None:
        return None
    tokens = new_tokens.tolist()
    return len(tokens) >= budget and not (tokens and tokens[-1] in _end_tokens(model,
                                                                                 generate_kwargs))


def _new_token_budget(model: Any, generate_kwargs: dict) -> int | None:
    return generate_kwargs.get("max_new_tokens", getattr(
        getattr(model, "generation_config", None), "max_new_tokens", None))


def _until_end(tokens: Any, eos: set[int]) -> Any:
    """``tokens`` up to and including the first end-of-sequence token."""
    for position, token in enumerate(tokens.tolist()):
        if token in eos:
            return tokens[:position + 1]
    return tokens


def positions_follow_the_mask(model: Any) -> bool:
    """Whether a padded row's positions count its real tokens only. ``generate`` derives them
    from the attention mask; Qwen-VL models add their rope offset, and from transformers 5 do so
    on the mask's count (their own ``_prepare_position_ids_for_generation``); before, they took
    the cache position plus the offset, which counts the padding, so there only questions of
    equal length share a batch."""
    if not hasattr(getattr(model, "model", None), "rope_deltas"):
        return True
    return "_prepare_position_ids_for_generation" in vars(type(model))


def _window_if_padding_matters(model: Any, ids: list[list[int]], budget: int | None) -> bool:
    """Whether the model has sliding-window layers that the longest row could outgrow (then
    padding would push prefix tokens out of a row's window); logged once per model class."""
    config = model.config.get_text_config() if hasattr(model.config, "get_text_config") \
        else model.config
    window = getattr(config, "sliding_window", None)
    kinds = getattr(config, "layer_types", None)
    sliding = any("sliding" in kind for kind in kinds) if kinds else bool(
        window and getattr(config, "use_sliding_window", True))
    longest = max(len(s) for s in ids) + (budget or 0)
    matters = bool(sliding and window and longest >= int(window) - 1)
    if matters and type(model).__name__ not in _WINDOW_REPORTED:
        _WINDOW_REPORTED.add(type(model).__name__)
        logger.info("%s: prompts plus answers (%d tokens) outgrow its sliding window (%d), so "
                    "only questions of equal token length are decoded together",
                    type(model).__name__, longest, window)
    return matters


_WINDOW_REPORTED: set[str] = set()
