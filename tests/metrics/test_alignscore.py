"""AlignScore on a tiny random RoBERTa saved the way the released checkpoints are.

The expected scores are computed by hand: each (chunk, sentence) pair run alone through the same
transformers RobertaModel and a plain linear 3-way head, softmax, then max over chunks and mean
over sentences, with the chunks and sentences written out here.
"""

from __future__ import annotations

import logging
import sys
import types

import pytest

from ct_spatial_bench.metrics.alignscore import (
    AlignScoreError,
    aggregate,
    context_chunks,
    load_alignscore,
    read_checkpoint,
)
from ct_spatial_bench.metrics.text import per_item_text_metrics, text_metrics_summary

torch = pytest.importorskip("torch")
MAX_TOKENS = 128
TEXT = ("The nodule is in the left lower lobe. There is no effusion on the right side. "
        "A small cyst lies above the liver. The heart is central. Both lungs are clear.")


def lightning_attribute_dict(monkeypatch):
    """A class pickled under pytorch_lightning 1.x's AttributeDict name (the released
    checkpoints' ``hyper_parameters``), without Lightning installed."""
    for name in ("pytorch_lightning", "pytorch_lightning.utilities",
                 "pytorch_lightning.utilities.parsing"):
        monkeypatch.setitem(sys.modules, name, types.ModuleType(name))

    class AttributeDict(dict):
        pass

    AttributeDict.__module__ = "pytorch_lightning.utilities.parsing"
    AttributeDict.__qualname__ = "AttributeDict"
    sys.modules["pytorch_lightning.utilities.parsing"].AttributeDict = AttributeDict
    return AttributeDict


@pytest.fixture(scope="module")
def tiny_alignscore(tmp_path_factory):
    """(checkpoint path, RobertaModel, tri head, tokenizer): a Lightning-format checkpoint with
    base_model / mlm_head / bin_layer / tri_layer / reg_layer, RoBERTa's files beside it."""
    from tokenizers import ByteLevelBPETokenizer
    from transformers import RobertaConfig, RobertaForMaskedLM, RobertaModel, RobertaTokenizerFast

    folder = tmp_path_factory.mktemp("alignscore")
    # trained with the tokenizers library itself, which every supported transformers wraps
    # (RobertaTokenizer() with no files builds an empty one only from transformers 5)
    specials = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]
    trained = ByteLevelBPETokenizer()
    trained.train_from_iterator([TEXT], vocab_size=300, special_tokens=specials)
    tokenizer = RobertaTokenizerFast(tokenizer_object=trained._tokenizer, bos_token="<s>",
                                     eos_token="</s>", sep_token="</s>", cls_token="<s>",
                                     unk_token="<unk>", pad_token="<pad>", mask_token="<mask>")
    tokenizer.model_max_length = MAX_TOKENS
    config = RobertaConfig(
        vocab_size=len(tokenizer), hidden_size=16, num_hidden_layers=2, num_attention_heads=2,
        intermediate_size=32, pad_token_id=tokenizer.pad_token_id,
        max_position_embeddings=MAX_TOKENS + tokenizer.pad_token_id + 1)
    torch.manual_seed(0)
    encoder = RobertaModel(config).eval()
    heads = {"bin_layer": torch.nn.Linear(16, 2), "tri_layer": torch.nn.Linear(16, 3),
             "reg_layer": torch.nn.Linear(16, 1)}
    state = {f"base_model.{k}": v for k, v in encoder.state_dict().items()}
    state.update({f"mlm_head.{k}": v
                  for k, v in RobertaForMaskedLM(config).lm_head.state_dict().items()})
    for name, head in heads.items():
        state.update({f"{name}.{k}": v for k, v in head.state_dict().items()})
    with pytest.MonkeyPatch.context() as patch:
        hparams = lightning_attribute_dict(patch)(model="roberta-base", using_pretrained=True)
        torch.save({"epoch": 2, "global_step": 1000, "pytorch-lightning_version": "1.7.7",
                    "state_dict": state, "hyper_parameters": hparams}, folder / "tiny.ckpt")
    config.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder / "tiny.ckpt", encoder, heads["tri_layer"], tokenizer


def aligned_by_hand(encoder, tri_layer, tokenizer, context, claim):
    """Softmax of the 3-way head, class 0, for one pair run alone (no padding)."""
    encoded = tokenizer(context, claim, return_tensors="pt")
    with torch.no_grad():
        pooled = encoder(**encoded).pooler_output
        return float(torch.softmax(tri_layer(pooled), dim=-1)[0, 0])


def test_context_chunks_follow_the_papers_350_word_rule():
    seven = " ".join(f"Sentence {i} has five words." for i in range(7))  # 35 words
    # 35 // 10 + 1 = 4 target chunks; 7 // 4 = 1 sentence each: 7 chunks
    assert context_chunks(seven, chunk_words=10) == [f"Sentence {i} has five words."
                                                      for i in range(7)]
    # 35 // 15 + 1 = 3 target chunks; 7 // 3 = 2 sentences each, the last one alone
    chunks = context_chunks(seven, chunk_words=15)
    assert [c.count("Sentence") for c in chunks] == [2, 2, 2, 1]
    assert context_chunks(seven) == [seven]  # under 350 words: one chunk
    long_sentence = " ".join(["word"] * 400) + "."
    assert context_chunks(long_sentence) == [long_sentence]  # a sentence is never cut
    assert context_chunks("") == [""]


def test_aggregate_is_mean_over_sentences_of_max_over_chunks():
    # rows chunks, columns sentences: maxima 0.9 and 0.4
    assert aggregate([[0.1, 0.4], [0.9, 0.2]]) == pytest.approx(0.65)


def test_score_matches_the_hand_computation(tiny_alignscore):
    checkpoint, encoder, tri_layer, tokenizer = tiny_alignscore
    scorer = load_alignscore(checkpoint, batch_size=3)
    contexts = [TEXT, "The nodule is in the left lower lobe."]
    claims = ["The heart is central. A small cyst lies above the liver.", "Both lungs are clear."]
    scores = scorer.score(contexts, claims)

    chunks = [TEXT]  # 30 words: one chunk
    sentences = ["The heart is central.", "A small cyst lies above the liver."]
    first = sum(aligned_by_hand(encoder, tri_layer, tokenizer, TEXT, s) for s in sentences) / 2
    second = aligned_by_hand(encoder, tri_layer, tokenizer, contexts[1], claims[1])
    assert len(chunks) == 1 and scores == pytest.approx([first, second], abs=1e-5)


def test_score_takes_the_best_chunk_for_each_sentence(tiny_alignscore):
    checkpoint, encoder, tri_layer, tokenizer = tiny_alignscore
    scorer = load_alignscore(checkpoint)
    scorer.chunk_words = 10  # 30 words // 10 + 1 = 4 target chunks of 5 // 4 = 1 sentence each
    chunks = ["The nodule is in the left lower lobe.", "There is no effusion on the right side.",
              "A small cyst lies above the liver.", "The heart is central.",
              "Both lungs are clear."]
    sentences = ["The heart is central.", "Both lungs are clear."]
    grid = [[aligned_by_hand(encoder, tri_layer, tokenizer, c, s) for s in sentences]
            for c in chunks]
    expected = (max(row[0] for row in grid) + max(row[1] for row in grid)) / 2
    assert scorer.score([TEXT], [" ".join(sentences)]) == pytest.approx([expected], abs=1e-5)


def test_overlong_pairs_are_truncated_not_failed(tiny_alignscore):
    checkpoint, *_ = tiny_alignscore
    scorer = load_alignscore(checkpoint)
    long_claim = " ".join(["The nodule is in the left lower lobe"] * 20) + "."
    scores = scorer.score([TEXT * 3, "Both lungs are clear."],
                          ["Both lungs are clear.", long_claim])
    assert all(0.0 <= s <= 1.0 for s in scores)


def test_alignscore_column_in_text_metrics_when_configured(tiny_alignscore, caplog):
    checkpoint, encoder, tri_layer, tokenizer = tiny_alignscore
    qa = [{"qa_id": f"q{i}", "answer": a, "question": "where?"}
          for i, a in enumerate(["The nodule is in the left lower lobe.", "The heart is central."])]
    preds = [{"qa_id": "q0", "model": "m", "prediction": "Both lungs are clear.", "status": "ok"},
             {"qa_id": "q1", "model": "m", "prediction": "", "status": "ok"}]
    rows = per_item_text_metrics(qa, preds, sbert=False, meteor=False,
                                 alignscore={"checkpoint": str(checkpoint)})
    expected = aligned_by_hand(encoder, tri_layer, tokenizer, qa[0]["answer"],
                               "Both lungs are clear.")  # reference = context, prediction = claim
    assert rows[0]["alignscore"] == pytest.approx(expected, abs=1e-5)
    assert rows[1]["alignscore"] is None  # an empty prediction is not scored
    summary = text_metrics_summary(rows, qa, preds)
    assert summary[0]["alignscore"] == pytest.approx(expected, abs=1e-5)

    with caplog.at_level(logging.INFO, logger="ct_spatial_bench.metrics.text"):
        plain = per_item_text_metrics(qa, preds, sbert=False, meteor=False)
    assert "alignscore" not in plain[0]
    assert "alignscore" not in text_metrics_summary(plain, qa, preds)[0]
    hints = [r.message for r in caplog.records if "AlignScore left out" in r.message]
    assert len(hints) == 1 and "metrics.alignscore.checkpoint" in hints[0]


def test_unusable_checkpoints_fail_with_a_short_reason(tiny_alignscore, tmp_path):
    checkpoint, *_ = tiny_alignscore
    with pytest.raises(AlignScoreError, match="no RoBERTa config.json"):
        load_alignscore(checkpoint, backbone=tmp_path)
    torch.save({"state_dict": {"base_model.x": torch.zeros(1)}}, tmp_path / "other.ckpt")
    with pytest.raises(AlignScoreError, match="not an AlignScore checkpoint"):
        read_checkpoint(tmp_path / "other.ckpt")
    with pytest.raises(AlignScoreError, match="no file"):
        read_checkpoint(tmp_path / "absent.ckpt")
    state = read_checkpoint(checkpoint)
    state["base_model.pooler.dense.weight"] = torch.zeros(8, 8)
    torch.save({"state_dict": state}, tmp_path / "bad.ckpt")
    with pytest.raises(AlignScoreError, match="does not fit the RoBERTa config"):
        load_alignscore(tmp_path / "bad.ckpt", backbone=checkpoint.parent)
