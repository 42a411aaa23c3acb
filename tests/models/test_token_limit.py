"""``hit_token_limit``: whether decoding stopped because ``max_new_tokens`` ran out (the answer
may be cut: Lingshu's "reasoning ... final answer" in 256 tokens), recorded on a prediction
only where the adapter can tell, and counted per model in the run-cost table."""

import re

import numpy as np
import pytest
import torch
from support.adapter_helpers import conf_spec, tall_volume
from support.tiny_vlm_folders import build_tiny_qwen2_5_vl, without_video_processor

from ct_spatial_bench.imaging.specs import apply_spec
from ct_spatial_bench.inference.loop import run_model
from ct_spatial_bench.models.adapters.lingshu import Lingshu
from ct_spatial_bench.models.base import Answer, ModelAdapter, Question
from ct_spatial_bench.models.batch_decode import hit_token_limit
from ct_spatial_bench.records import Prediction
from ct_spatial_bench.reporting.efficiency import run_costs
from ct_spatial_bench.reporting.summary import html_table


class _Generating:
    """What ``hit_token_limit`` reads of a model: its generation config."""

    class generation_config:
        max_new_tokens = 3
        eos_token_id = (2, 9)


@pytest.mark.parametrize("tokens, kwargs, expected", [
    ([5, 6, 7], {}, True),  # three tokens of a budget of three, none an end: cut
    ([5, 6, 9], {}, False),  # its third token is an end token: it ended on its own
    ([5, 2], {}, False),  # ended before the budget
    ([5, 6, 7], {"max_new_tokens": 4}, False),  # the call's budget wins over the config's
    ([5, 6, 7, 8], {"max_new_tokens": 4, "eos_token_id": 7}, True),  # and its end token
])
def test_hit_token_limit_by_hand(tokens, kwargs, expected):
    assert hit_token_limit(_Generating, kwargs, torch.tensor(tokens)) is expected


def test_no_budget_known_is_none():
    class NoBudget:
        class generation_config:
            max_new_tokens = None
            eos_token_id = 2

    assert hit_token_limit(NoBudget, {}, torch.tensor([5, 6])) is None


class _Told(ModelAdapter):
    """Answers whose ``hit_token_limit`` is whatever the question says ("cut", "ended", else
    unknown)."""

    name, input_spec = "told", None

    def answer_volume(self, image, questions):
        flags = {"cut": True, "ended": False}
        return [Answer(q.text, q.text, hit_token_limit=flags.get(q.text)) for q in questions]


def _ask(*questions):
    items = [{"qa_id": f"q{i}", "question": q} for i, q in enumerate(questions)]
    return run_model(_Told(), items, None, {}, progress=False)


def test_recorded_only_where_known_and_kept_by_the_record():
    cut, ended, unknown = _ask("cut", "ended", "unknown")
    assert cut["hit_token_limit"] is True and ended["hit_token_limit"] is False
    assert "hit_token_limit" not in unknown  # predictions of adapters that cannot tell unchanged
    for row in (cut, ended, unknown):  # the typed record writes the field back as it was
        written = Prediction.from_dict(row).to_dict()
        assert ("hit_token_limit" in written) == ("hit_token_limit" in row)
        assert written.get("hit_token_limit") == row.get("hit_token_limit")


def test_run_costs_count_per_model_blank_where_unknown():
    rows = [{**row, "model": "lingshu"} for row in _ask("cut", "ended", "cut", "unknown")]
    rows += [{**row, "model": "radfm"} for row in _ask("unknown")]
    costs = run_costs(rows).set_index("model")["n_hit_token_limit"]
    assert costs["lingshu"] == 2  # two "cut" of the three that say
    assert costs.isna()["radfm"]
    assert "n_hit_token_limit" not in run_costs(_ask("unknown")).columns  # no model can tell
    cells = re.findall(r"<td>([^<]*)</td>", html_table(run_costs(rows)))
    assert cells[-12] == "2" and cells[-1] == ""  # each row's last cell: the count, or blank


@pytest.fixture(scope="module")
def tiny_qwen(tmp_path_factory):
    with pytest.MonkeyPatch.context() as patch:
        without_video_processor(patch)
        return build_tiny_qwen2_5_vl(tmp_path_factory.mktemp("tiny_qwen_limit"))


@pytest.mark.slow
@pytest.mark.parametrize("batch_questions", [True, False])
def test_lingshu_answers_cut_at_a_small_budget(tiny_qwen, monkeypatch, batch_questions):
    """The tiny Qwen2.5-VL with max_new_tokens 3. Its end token suppressed, every answer runs to
    the budget: 3 new tokens, cut. Its end token forced as the last allowed token
    (``forced_eos_token_id``), every answer is 3 tokens long too but ended on its own."""
    from transformers import AutoTokenizer

    without_video_processor(monkeypatch)
    end = AutoTokenizer.from_pretrained(tiny_qwen).convert_tokens_to_ids("<|im_end|>")
    volume = apply_spec(tall_volume(6), conf_spec("lingshu"))
    items = [{"qa_id": "v::0", "image_path": "v.nii.gz", "question": "which side"},
             {"qa_id": "v::1", "image_path": "v.nii.gz", "question": "is the nodule left"}]
    for generation, cut in (({"suppress_tokens": [end]}, True),
                            ({"forced_eos_token_id": end}, False)):
        adapter = Lingshu()
        adapter.load({"model_path": str(tiny_qwen), "device": "cpu", "dtype": "float32",
                      "batch_questions": batch_questions,
                      "generation": {"max_new_tokens": 3, **generation}})
        predictions = run_model(adapter, items, lambda _: volume, {}, progress=False)
        assert [p["status"] for p in predictions] == ["ok", "ok"]
        assert [p["tokens"]["new"] for p in predictions] == [3, 3]
        assert [p["hit_token_limit"] for p in predictions] == [cut, cut]


class _Replying(torch.nn.Module):
    """CT-CHAT's model and CTViT in one: ``generate`` returns the ids it is given (new tokens
    only, as LLaVA's generate over inputs_embeds); called, it gives CTViT-like tokens."""

    def __init__(self, ids):
        super().__init__()
        self.weight = torch.nn.Linear(2, 2)
        self.ids = ids

    def generate(self, *args, **kwargs):
        return torch.tensor([self.ids])

    def forward(self, *args, **kwargs):
        return torch.zeros(1, 2, 2, 2, 4)


@pytest.mark.parametrize("words, cut", [
    (["left", "right", "lung"], True),  # the budget of 3 reached, no separator: cut
    (["left", "<|eot_id|>", "lung"], False),  # the turn ended at <|eot_id|>, then ran on
    (["left", "right"], False),  # ended before the budget
])
def test_ct_chat_marks_an_answer_cut_by_the_budget(words, cut):
    from support.adapter_helpers import word_tokenizer

    from ct_spatial_bench.models.adapters.ct_chat import CTChat

    tokenizer = word_tokenizer(("<provided>", "<short_answer>", "<|eot_id|>"))
    model = _Replying(tokenizer.convert_tokens_to_ids(words))
    adapter = CTChat()
    adapter.load({"model_path": "stand-in", "encoder_path": "stand-in", "device": "cpu",
                  "generation": {"max_new_tokens": 3},
                  "factory": lambda c, o: {"encoder": _Replying([]), "model": model,
                                           "tokenizer": tokenizer}})
    [answer] = adapter.answer_volume(np.zeros((4, 8, 8), np.float32), [Question("q", "side")])
    assert answer.hit_token_limit is cut
