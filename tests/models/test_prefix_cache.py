"""One prefill per volume on tiny real Gemma 3 (MedGemma) and Qwen2.5-VL (Lingshu): the greedy
tokens are those of asking each question on its own, and the shared prefix holds every image.

The per-question path (``share_prefix: false``) is the reference: it is transformers' own
``generate`` on the whole prompt, as the adapters ran before the prefix was shared.
"""

import numpy as np
import pytest
import torch
from support.tiny_vlm_folders import (
    build_tiny_gemma3,
    build_tiny_qwen2_5_vl,
    without_video_processor,
)

from ct_spatial_bench.models.adapters.lingshu import Lingshu
from ct_spatial_bench.models.adapters.medgemma import MedGemma
from ct_spatial_bench.models.base import Question
from ct_spatial_bench.models.prefix_cache import generate_per_volume, shared_prefix_length

pytestmark = pytest.mark.slow
QUESTIONS = [Question(f"v::{i}", text) for i, text in enumerate(
    ["which side is the nodule on?", "is it upper?", "which lobe?", "SLICE 3 right or left"])]


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    with pytest.MonkeyPatch.context() as patch:
        without_video_processor(patch)
        return {MedGemma: build_tiny_gemma3(tmp_path_factory.mktemp("gemma3")),
                Lingshu: build_tiny_qwen2_5_vl(tmp_path_factory.mktemp("qwen2_5_vl"))}


def _loaded(cls, folder, monkeypatch, share, spread=None):
    """The adapter on CPU; ``spread`` redraws its weights with that standard deviation so that
    its greedy tokens depend on every input token (a random tiny Qwen otherwise says the same
    thing whatever it is asked)."""
    without_video_processor(monkeypatch)
    adapter = cls()
    adapter.load({"model_path": str(folder), "device": "cpu", "dtype": "float32",
                  "generation": {"max_new_tokens": 6}, "share_prefix": share})
    if spread:
        torch.manual_seed(1)
        with torch.no_grad():
            for parameter in adapter.model.parameters():
                parameter.normal_(0, spread)
    return adapter


def _slices(seed, n=8):
    return np.random.default_rng(seed).integers(0, 255, (n, 16, 16, 3), dtype=np.uint8)


def _tokens(adapter, slices, share):
    chats = [adapter.messages(q.text, adapter.images_of(slices)) for q in QUESTIONS]
    encoded = [adapter.encode(chat) for chat in chats]
    image_token = adapter.processor.image_token_id
    return encoded, generate_per_volume(adapter.model, encoded, adapter._generate_kwargs(),
                                        {image_token}, share)


@pytest.mark.parametrize("cls,spread", [(MedGemma, 0.1), (Lingshu, 0.5)])
def test_shared_prefix_gives_the_per_question_tokens(cls, spread, folders, monkeypatch):
    adapter = _loaded(cls, folders[cls], monkeypatch, True, spread)
    _, alone = _tokens(adapter, _slices(0), share=False)
    encoded, shared = _tokens(adapter, _slices(0), share=True)
    assert [g.new_tokens.tolist() for g in shared] == [g.new_tokens.tolist() for g in alone]
    # the answers depend on the question and on the image, so equality above means something
    assert len({tuple(g.new_tokens.tolist()) for g in alone}) > 1
    _, other_image = _tokens(adapter, _slices(1), share=True)
    assert [g.new_tokens.tolist() for g in other_image] != [g.new_tokens.tolist() for g in alone]
    # the prefix is computed once: every later question prefills only its own tokens
    ids = [e["input_ids"][0].tolist() for e in encoded]
    prefix = shared_prefix_length(ids, {adapter.processor.image_token_id})
    assert prefix > 8  # at least the 8 images
    assert shared[0].prefill_tokens == shared[0].prompt_tokens
    assert all(g.prefill_tokens == g.prompt_tokens - prefix for g in shared[1:])
    assert all(g.prefill_tokens == g.prompt_tokens for g in alone)


@pytest.mark.parametrize("cls", [MedGemma, Lingshu])
def test_the_question_comes_after_every_image_token(cls, folders, monkeypatch):
    adapter = _loaded(cls, folders[cls], monkeypatch, True)
    encoded, _ = _tokens(adapter, _slices(0), share=True)
    ids = [e["input_ids"][0].tolist() for e in encoded]
    image_token = adapter.processor.image_token_id
    length = shared_prefix_length(ids, {image_token})
    last_image = max(i for i, t in enumerate(ids[0]) if t == image_token)
    assert length > last_image  # all 8 images (and the instruction) are in the shared prefix
    assert all(seq[:length] == ids[0][:length] for seq in ids)  # a true token prefix
    assert all(len(seq) > length for seq in ids)


def test_adapter_answers_match_with_and_without_the_shared_prefix(folders, monkeypatch):
    texts = {}
    for share in (False, True):
        adapter = _loaded(MedGemma, folders[MedGemma], monkeypatch, share)
        by_question = {a.qa_id: a for a in adapter.answer_volume(_slices(0), QUESTIONS)}
        answers = [by_question[q.qa_id] for q in QUESTIONS]
        texts[share] = [a.text for a in answers]
        assert [a.prompt.endswith(f"Question: {q.text}<end_of_turn>\n<start_of_turn>model\n")
                for a, q in zip(answers, QUESTIONS)] == [True] * 4
    assert texts[True] == texts[False]


def test_no_prefix_is_shared_when_an_image_follows_the_difference():
    image = 7
    assert shared_prefix_length([[1, 2, 7, 3], [1, 2, 7, 4]], {image}) == 3
    assert shared_prefix_length([[1, 5, 7, 3], [1, 6, 7, 3]], {image}) == 0
    assert shared_prefix_length([[1, 2, 3]], {image}) == 0  # one question: nothing to share
    assert shared_prefix_length([[1, 2], [1, 2]], set()) == 1  # each keeps a token to prefill


@pytest.mark.parametrize("cls", [MedGemma, Lingshu])
def test_the_prefix_prefill_computes_the_last_tokens_logits_only(cls, folders, monkeypatch):
    adapter = _loaded(cls, folders[cls], monkeypatch, True)
    vocabulary = adapter.model.config.get_text_config().vocab_size
    shapes = []
    hook = adapter.model.register_forward_hook(
        lambda module, args, output: shapes.append(tuple(output.logits.shape)))
    _tokens(adapter, _slices(0), share=True)
    hook.remove()
    assert shapes[0] == (1, 1, vocabulary)  # the prefix: one position's logits, not ~100


def test_share_prefix_turns_itself_off_where_generate_cannot_continue_a_cache(
        folders, monkeypatch, caplog):
    """A generation config naming a cache implementation makes transformers' generate refuse a
    cache built outside it (ValueError "Passing both `cache_implementation` ... and `cache`");
    ``hybrid`` is dropped by generate from 4.56 on, and refused before."""
    import transformers

    from ct_spatial_bench.models import prefix_cache

    adapter = _loaded(Lingshu, folders[Lingshu], monkeypatch, True, spread=0.5)
    _, alone = _tokens(adapter, _slices(0), share=False)
    adapter.model.generation_config.cache_implementation = "static"
    with monkeypatch.context() as patch, pytest.raises(ValueError, match="cache_implementation"):
        patch.setattr(prefix_cache, "cache_extensible", lambda *a: True)  # the library refuses
        _tokens(adapter, _slices(0), share=True)
    prefix_cache._REPORTED.clear()
    with caplog.at_level("INFO", logger=prefix_cache.__name__):
        for _ in range(2):
            _, shared = _tokens(adapter, _slices(0), share=True)
    assert [r.message.count("share_prefix off") for r in caplog.records] == [1]
    assert all(g.prefill_tokens == g.prompt_tokens for g in shared)  # nothing was shared
    assert [g.new_tokens.tolist() for g in shared] == [g.new_tokens.tolist() for g in alone]

    adapter.model.generation_config.cache_implementation = "hybrid"
    monkeypatch.setattr(transformers, "__version__", "4.55.4")
    assert not prefix_cache.cache_extensible(adapter.model, {})
    monkeypatch.setattr(transformers, "__version__", "4.56.0")
    assert prefix_cache.cache_extensible(adapter.model, {})


@pytest.mark.parametrize("cls,spread", [(MedGemma, 0.1), (Lingshu, 0.5)])
def test_bfloat16_shared_prefix_token_agreement(cls, spread, folders, monkeypatch):
    """In bfloat16 one prefill of the prefix and the prefix inside each whole prompt may round
    differently; the agreement is measured (the models README states it) and must stay high."""
    without_video_processor(monkeypatch)
    adapter = cls()
    adapter.load({"model_path": str(folders[cls]), "device": "cpu", "dtype": "bfloat16",
                  "generation": {"max_new_tokens": 6}})
    torch.manual_seed(1)
    with torch.no_grad():
        for parameter in adapter.model.parameters():
            parameter.normal_(0, spread)
    agree = total = 0
    for seed in range(3):
        _, alone = _tokens(adapter, _slices(seed), share=False)
        _, shared = _tokens(adapter, _slices(seed), share=True)
        for a, b in zip(alone, shared):
            agree += sum(x == y for x, y in zip(a.new_tokens.tolist(), b.new_tokens.tolist()))
            total += max(len(a.new_tokens), len(b.new_tokens))
    assert agree / total >= 0.9, (agree, total)
