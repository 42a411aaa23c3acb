"""The memory plan's text allowance from each adapter's own prompt (``text_tokens``): the flat
256 for a short template, and what CT-CHAT's system prompt and VILA-M3's model cards, first
reply and expert turn add, counted by the checkpoint's tokenizer or else by bytes. Figures by
hand (the byte counts of the texts as the authors wrote them)."""

import re

import torch
from memory_plan_folders import (
    TINY_LLAMA_PARAMETERS,
    VILA_M3_TOWER_AND_PROJECTOR,
    write_ct_chat,
    write_vila_m3,
)
from support.adapter_helpers import word_tokenizer
from support.vila_m3_standins import write_m3_checkout, write_vista3d_bundle

from ct_spatial_bench.models.adapters.ct_chat import SYSTEM_PROMPT, CTChat
from ct_spatial_bench.models.adapters.m3d import M3DLaMed
from ct_spatial_bench.models.adapters.vila_m3 import VilaM3
from ct_spatial_bench.models.memory_plan import plan_for, token_counter

# ibrahimethemhamamci/CT-CHAT@33c9b97 llava/conversation.py, conv_llama3.system: 2,140
# characters, 2,152 UTF-8 bytes (its four curly quotes take 3 bytes each), counted from the
# authors' file; the rest of the prompt without the question and the image, by hand:
# <|eot_id|> 10 + "<|start_header_id|>user<|end_header_id|>\n\n" 42 + "\n<provided>
# <short_answer>" 26 + <|eot_id|> 10 + "<|start_header_id|>assistant<|end_header_id|>\n\n" 47
CT_CHAT_SYSTEM_BYTES, CT_CHAT_TURN_BYTES = 2152, 135


def test_the_counter_uses_the_checkpoints_tokenizer_else_bytes(tmp_path):
    word_tokenizer().save_pretrained(tmp_path / "tok")
    assert token_counter([None, tmp_path / "tok"])("the lung is left") == 4  # four words
    assert token_counter([tmp_path / "none"])("é lung") == 7  # é is 2 bytes, then 5


def test_a_short_template_keeps_the_flat_allowance():
    assert M3DLaMed.text_tokens({}) == 256


def test_ct_chat_counts_its_system_prompt_by_bytes_without_a_tokenizer(tmp_path):
    assert len(SYSTEM_PROMPT) == 2140  # as the authors' file has it
    config = write_ct_chat(tmp_path)
    assert CTChat.text_tokens(config) == 256 + CT_CHAT_SYSTEM_BYTES + CT_CHAT_TURN_BYTES == 2543


def test_ct_chat_counts_with_the_tokenizer_of_model_path(tmp_path):
    """A word-level tokenizer splitting as the Whitespace pre-tokenizer documents
    (``\\w+|[^\\w\\s]+``): one token per such piece of the prompt without question and image."""
    config = write_ct_chat(tmp_path)
    word_tokenizer().save_pretrained(config["model_path"])
    text = SYSTEM_PROMPT + "<|eot_id|><|start_header_id|>user<|end_header_id|>\n\n\n<provided> " \
        "<short_answer><|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n"
    pieces = len(re.findall(r"\w+|[^\w\s]+", text))
    assert CTChat.text_tokens(config) == 256 + pieces


def _vila(tmp_path, **extra):
    root = write_vila_m3(tmp_path / "Llama3-VILA-M3-8B")
    m3 = write_m3_checkout(tmp_path / "m3", {"everything": {"liver": 1, "lung": 2},
                                             "organs": {"liver": 1}}, model_cards="Cards.\n")
    bundle = write_vista3d_bundle(tmp_path / "vista3d")
    (bundle / "models").mkdir()
    torch.save({"w": torch.zeros(3, 5)}, bundle / "models" / "model.pt")
    return {"model_path": str(root), "m3_dir": str(m3), "vista3d_bundle": str(bundle), **extra}


def test_vila_m3_counts_cards_first_reply_expert_turn_and_the_question_again(tmp_path):
    """By hand, in bytes (no tokenizer in llm/): cards "Cards.\\n" 7 + "This is a CT image.\\n"
    20; the first reply's budget 1,024; the expert turn "The results are . The colors in this
    image describe " 52 + "yellowgreen: liver, yellowgreen: lung" 37 (the longest colour for
    each label) + ". Use this result to respond to this prompt:\\n" 45; the question again 152."""
    config = _vila(tmp_path)
    assert VilaM3.text_tokens(config) == 256 + 27 + 1024 + 134 + 152 == 1593
    assert VilaM3.text_tokens({**config, "expert": "never"}) == 256 + 27
    plan = plan_for("vila_m3", VilaM3, {"inference": {"config": config}}, None)
    # VISTA3D's bundle weights (3 x 5) counted beside VILA's, unless the expert never runs
    assert plan.parameters == TINY_LLAMA_PARAMETERS + VILA_M3_TOWER_AND_PROJECTOR + 15
    never = plan_for("vila_m3", VilaM3, {"inference": {"config": {**config, "expert": "never"}}},
                     None)
    assert never.parameters == TINY_LLAMA_PARAMETERS + VILA_M3_TOWER_AND_PROJECTOR
