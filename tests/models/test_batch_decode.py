"""A volume's questions decoded as one batch after the shared prefix, on tiny real Gemma 3
(MedGemma: a sliding-window layer), Qwen2.5-VL (Lingshu: rope offsets), Qwen3-VL and InternVL3.

The reference is transformers' own ``generate`` on each whole prompt, one question at a time
(``batch_questions: false, share_prefix: false``), as the adapters asked before any sharing.
The weights are redrawn with a wide spread so that the greedy tokens depend on every input
token (a tiny random model otherwise says the same thing whatever it is asked).
"""

import json

import numpy as np
import pytest
import torch
from support.tiny_vlm_folders import (
    build_tiny_gemma3,
    build_tiny_internvl3,
    build_tiny_qwen2_5_vl,
    build_tiny_qwen3_vl,
    without_video_processors,
)

from ct_spatial_bench.models.adapters.hf_presets import InternVL3, Qwen3VL
from ct_spatial_bench.models.adapters.lingshu import Lingshu
from ct_spatial_bench.models.adapters.medgemma import MedGemma
from ct_spatial_bench.models.base import Question
from ct_spatial_bench.models.batch_decode import batches, expanded, positions_follow_the_mask

pytestmark = pytest.mark.slow
# very different lengths, in tokens: 3 to ~40 words
TEXTS = ["which side?",
         "is the nodule that sits in the lung on the right side or on the left side of the "
         "patient, and is it in the upper or the lower lobe, and does it touch the pleura or "
         "the fissure, or the heart, or any other structure named in the report?",
         "which lobe contains the largest nodule?", "SLICE 3 right or left",
         "is it upper or lower?"]
QUESTIONS = [Question(f"v::{i}", text) for i, text in enumerate(TEXTS)]
BUILDERS = {MedGemma: (build_tiny_gemma3, 0.1), Lingshu: (build_tiny_qwen2_5_vl, 0.5),
            Qwen3VL: (build_tiny_qwen3_vl, 0.5), InternVL3: (build_tiny_internvl3, 0.5)}


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    with pytest.MonkeyPatch.context() as patch:
        without_video_processors(patch)
        return {cls: build(tmp_path_factory.mktemp(cls.name)) for cls, (build, _) in
                BUILDERS.items()}


def _loaded(cls, folder, monkeypatch, dtype="float32", new_tokens=8, **config):
    without_video_processors(monkeypatch)
    adapter = cls()
    adapter.load({"model_path": str(folder), "device": "cpu", "dtype": dtype,
                  "generation": {"max_new_tokens": new_tokens}, **config})
    torch.manual_seed(1)
    with torch.no_grad():
        for parameter in adapter.model.parameters():
            parameter.normal_(0, BUILDERS[cls][1])
    return adapter


def _slices(seed, n=6):
    return np.random.default_rng(seed).integers(0, 255, (n, 16, 16, 3), dtype=np.uint8)


def _answers(adapter, slices, questions=QUESTIONS, **config):
    """The answers by question, in the order the adapter handed them back."""
    adapter._config.update(config)
    return {a.qa_id: a for a in adapter.answer_volume(slices, questions)}


def _ids(adapter, answers):
    return {k: adapter.processor.tokenizer(a.text)["input_ids"] for k, a in answers.items()}


@pytest.mark.parametrize("cls", list(BUILDERS))
def test_batched_answers_are_the_one_at_a_time_answers_in_float32(cls, folders, monkeypatch):
    adapter = _loaded(cls, folders[cls], monkeypatch)
    alone = _answers(adapter, _slices(0), batch_questions=False, share_prefix=False)
    batched = _answers(adapter, _slices(0), batch_questions=True, share_prefix=True)
    assert set(batched) == {q.qa_id for q in QUESTIONS}
    assert {k: (a.text, a.new_tokens, a.prompt) for k, a in batched.items()} == \
        {k: (a.text, a.new_tokens, a.prompt) for k, a in alone.items()}
    # the answers depend on the question, so equality above means something
    assert len({a.text for a in alone.values()}) > 1
    assert all(a.prompt_tokens == alone[k].prompt_tokens for k, a in batched.items())
    assert sum(a.prefill_tokens for a in batched.values()) < \
        sum(a.prefill_tokens for a in alone.values())


@pytest.mark.parametrize("max_batch", [1, 2])
def test_max_batch_bounds_the_batch_and_keeps_the_answers(max_batch, folders, monkeypatch):
    adapter = _loaded(Lingshu, folders[Lingshu], monkeypatch)
    alone = _answers(adapter, _slices(2), batch_questions=False)
    bounded = _answers(adapter, _slices(2), batch_questions=True, max_batch=max_batch)
    assert {k: a.text for k, a in bounded.items()} == {k: a.text for k, a in alone.items()}


def test_an_answer_that_ends_at_once_is_handed_back_first(folders, monkeypatch):
    """A question whose answer is the end token at once (forced by a logits processor on any
    sequence holding a ``~``, the same rule alone and in the batch) is answered as when asked
    alone, and handed back at that first step, before the rows still decoding."""
    from transformers import LogitsProcessor, LogitsProcessorList

    adapter = _loaded(Lingshu, folders[Lingshu], monkeypatch, new_tokens=12)
    end = adapter.model.generation_config.eos_token_id
    trigger = adapter.processor.tokenizer.convert_tokens_to_ids("~")

    class EndWhereAsked(LogitsProcessor):
        def __call__(self, input_ids, scores):
            for row in (input_ids == trigger).any(dim=1).nonzero().flatten().tolist():
                scores[row, :] = -1e9
                scores[row, end] = 0.0
            return scores

    generate = adapter.model.generate
    monkeypatch.setattr(adapter.model, "generate", lambda *a, **k: generate(
        *a, logits_processor=LogitsProcessorList([EndWhereAsked()]), **k))
    questions = [*QUESTIONS[:2], Question("v::ends", "~ which side?"), *QUESTIONS[2:]]
    alone = _answers(adapter, _slices(0), questions, batch_questions=False,
                     share_prefix=False)
    batched = _answers(adapter, _slices(0), questions, batch_questions=True,
                       share_prefix=True)
    assert alone["v::ends"].new_tokens == 1 and alone["v::ends"].text == ""
    assert list(batched)[0] == "v::ends"  # in the order they were handed back
    assert {k: (a.text, a.new_tokens) for k, a in batched.items()} == \
        {k: (a.text, a.new_tokens) for k, a in alone.items()}


def test_the_image_processor_runs_once_per_volume(folders, monkeypatch):
    adapter = _loaded(Lingshu, folders[Lingshu], monkeypatch)
    calls = []
    inner = adapter.processor.image_processor
    monkeypatch.setattr(type(inner), "__call__",
                        lambda self, *a, **k: calls.append(1) or type(inner).preprocess(
                            self, *a, **k))
    _answers(adapter, _slices(0), batch_questions=True)
    assert len(calls) == 1
    calls.clear()
    _answers(adapter, _slices(0), batch_questions=False)
    assert len(calls) == len(QUESTIONS)  # one at a time: as before, once per question


def test_bfloat16_batched_tokens_agree_with_one_at_a_time(folders, monkeypatch):
    """In bfloat16 a batch's kernels may round differently from one row's; the agreement is
    measured (the README states it), and must stay high on this tiny model."""
    adapter = _loaded(Lingshu, folders[Lingshu], monkeypatch, dtype="bfloat16")
    alone = _ids(adapter, _answers(adapter, _slices(0), batch_questions=False,
                                   share_prefix=False))
    batched = _ids(adapter, _answers(adapter, _slices(0), batch_questions=True))
    same = sum(a == b for k in alone for a, b in zip(alone[k], batched[k]))
    total = sum(max(len(alone[k]), len(batched[k])) for k in alone)
    assert same / total >= 0.9, (same, total)


def test_batches_keep_question_order_and_bound_their_size():
    assert batches([3, 5, 3, 4], None, False) == [[0, 1, 2, 3]]
    assert batches([3, 5, 3, 4, 2], 2, False) == [[0, 1], [2, 3], [4]]
    # a sliding window that padding could shift: equal lengths only
    assert batches([3, 5, 3, 4, 3], 2, True) == [[0, 2], [4], [1], [3]]


def test_an_expanded_cache_shares_the_prefix_and_leaves_it_untouched():
    from transformers import DynamicCache

    cache = DynamicCache()
    keys = torch.randn(1, 2, 5, 4)
    cache.update(keys, keys.clone(), 0)
    batch = expanded(cache, 3)
    layer = batch.layers[0]
    assert layer.keys.shape == (3, 2, 5, 4)
    assert layer.keys.data_ptr() == cache.layers[0].keys.data_ptr()  # a view, no copy
    batch.update(torch.zeros(3, 2, 1, 4), torch.zeros(3, 2, 1, 4), 0)
    assert cache.layers[0].keys.shape == (1, 2, 5, 4)
    assert torch.equal(batch.layers[0].keys[2, :, :5], keys[0])


class _Killed(BaseException):
    """What a SIGKILL does to the run, at a chosen moment (no ``except Exception`` stops it)."""


def test_a_kill_mid_batch_loses_only_the_unfinished_questions(folders, monkeypatch, tmp_path):
    """The run is killed right after the first answer of a volume's batch reaches the
    checkpoint, while the other rows are still decoding; the resumed run asks only those."""
    from transformers import LogitsProcessor, LogitsProcessorList

    import ct_spatial_bench.inference.loop as runner

    adapter = _loaded(Lingshu, folders[Lingshu], monkeypatch, new_tokens=12)
    end = adapter.model.generation_config.eos_token_id
    trigger = adapter.processor.tokenizer.convert_tokens_to_ids("~")

    class EndWhereAsked(LogitsProcessor):  # the "~" question ends at once, the rest run on
        def __call__(self, input_ids, scores):
            for row in (input_ids == trigger).any(dim=1).nonzero().flatten().tolist():
                scores[row, :] = -1e9
                scores[row, end] = 0.0
            return scores

    generate, asked = adapter.model.generate, []

    def counted_generate(*args, **kwargs):
        asked.append(kwargs["input_ids"].shape[0])
        return generate(*args, logits_processor=LogitsProcessorList([EndWhereAsked()]), **kwargs)

    monkeypatch.setattr(adapter.model, "generate", counted_generate)
    texts = [*TEXTS[:2], "~ which side?", *TEXTS[2:]]
    items = [{"qa_id": f"v::{i}", "image_path": "v.npy", "question": text}
             for i, text in enumerate(texts)]
    checkpoint = tmp_path / "ck.jsonl"
    append_rows = runner.append_rows

    def killed_after_first(path, rows):
        append_rows(path, rows)
        raise _Killed

    monkeypatch.setattr(runner, "append_rows", killed_after_first)
    with pytest.raises(_Killed):
        runner.run_model(adapter, items, lambda path: _slices(0), {}, checkpoint, False)
    saved = [json.loads(line)["qa_id"] for line in checkpoint.read_text().splitlines()]
    assert saved == ["v::2"]  # the answer that ended at once, stored while the rest decoded
    assert asked == [len(items)]  # one batch for the whole volume

    monkeypatch.setattr(runner, "append_rows", append_rows)
    asked.clear()
    resumed = runner.run_model(adapter, items, lambda path: _slices(0), {}, checkpoint, False)
    assert asked == [len(items) - 1]  # only the unfinished questions, once
    adapter._config["batch_questions"] = False
    asked.clear()
    alone = runner.run_model(adapter, items, lambda path: _slices(0), {}, None, False)
    assert sum(asked) == len(items)
    assert [p["prediction"] for p in resumed] == [p["prediction"] for p in alone]
    assert all(p["status"] == "ok" for p in resumed)


def test_qwen_positions_follow_the_mask_only_where_transformers_computes_them_so(
        folders, monkeypatch):
    """transformers 5's Qwen-VL classes define ``_prepare_position_ids_for_generation`` (the
    mask's count plus the rope offset); a class without it (transformers 4) is batched by equal
    lengths only."""
    adapter = _loaded(Lingshu, folders[Lingshu], monkeypatch)
    assert positions_follow_the_mask(adapter.model)
    older = type("OlderQwen", (type(adapter.model),), {})
    monkeypatch.setattr(adapter.model, "__class__", older)
    assert not positions_follow_the_mask(adapter.model)
    alone = _answers(adapter, _slices(0), batch_questions=False)
    batched = _answers(adapter, _slices(0), batch_questions=True)
    assert {k: a.text for k, a in batched.items()} == {k: a.text for k, a in alone.items()}


def test_padding_inside_a_sliding_window_would_change_gemma3s_answers(folders, monkeypatch):
    """Why equal lengths only where a row outgrows the window: the tiny Gemma 3's window is 64
    slots and its prompts are longer, so padding pushes prefix tokens out of a row's window."""
    from ct_spatial_bench.models import batch_decode

    adapter = _loaded(MedGemma, folders[MedGemma], monkeypatch)
    alone = _answers(adapter, _slices(0), batch_questions=False, share_prefix=False)
    monkeypatch.setattr(batch_decode, "_window_if_padding_matters", lambda *args: False)
    padded = _answers(adapter, _slices(0), batch_questions=True, share_prefix=True)
    assert {k: a.text for k, a in padded.items()} != {k: a.text for k, a in alone.items()}
