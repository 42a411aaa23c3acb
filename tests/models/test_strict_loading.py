"""Strict loading: a weight name the checkpoint lacks, or one the model lacks, stops the load
with the first few names listed (transformers itself only warns)."""

from __future__ import annotations

import pytest
import torch

from ct_spatial_bench.models.strict_loading import (
    WeightMismatch,
    check_loading_info,
    check_weight_names,
    checkpoint_weight_names,
)


class Tied(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = torch.nn.Embedding(10, 4)
        self.head = torch.nn.Linear(4, 10, bias=False)
        self.head.weight = self.embed.weight  # saved once, as tied LM heads are
        self.norm = torch.nn.LayerNorm(4)


def test_names_come_from_bin_safetensors_and_index_files(tmp_path):
    from safetensors.torch import save_file

    torch.save({"a.weight": torch.zeros(2)}, tmp_path / "pytorch_model.bin")
    assert checkpoint_weight_names(tmp_path / "pytorch_model.bin") == {"a.weight"}
    assert checkpoint_weight_names(tmp_path) == {"a.weight"}
    save_file({"b": torch.zeros(1)}, str(tmp_path / "model-00001-of-00002.safetensors"))
    save_file({"c": torch.zeros(1)}, str(tmp_path / "model-00002-of-00002.safetensors"))
    assert checkpoint_weight_names(tmp_path) == {"b", "c"}  # safetensors first
    (tmp_path / "model.safetensors.index.json").write_text('{"weight_map": {"d": "x"}}')
    assert checkpoint_weight_names(tmp_path) == {"d"}


def test_a_tied_weight_saved_once_is_enough(tmp_path):
    model = Tied()
    state = {k: v for k, v in model.state_dict().items() if k != "head.weight"}
    torch.save(state, tmp_path / "pytorch_model.bin")
    check_weight_names("tied", model, tmp_path)


def test_missing_and_unexpected_names_are_listed_with_counts(tmp_path):
    model = Tied()
    state = {k: v for k, v in model.state_dict().items() if not k.startswith("norm")}
    state.update({f"extra.{i}": torch.zeros(1) for i in range(7)})
    torch.save(state, tmp_path / "pytorch_model.bin")
    with pytest.raises(WeightMismatch) as caught:
        check_weight_names("tied", model, tmp_path)
    assert str(caught.value).startswith(
        f"tied: the weights of {tmp_path} do not match the model's: 2 missing from the "
        "checkpoint (norm.bias, norm.weight); 7 in the checkpoint but not in the model "
        "(extra.0, extra.1, extra.2, extra.3, extra.4, ... (2 more))")


def test_a_prefix_and_ignored_names(tmp_path):
    model = Tied()
    state = {"lang_model." + k: v for k, v in model.state_dict().items()}
    state["lang_model.layers.0.rotary_emb.inv_freq"] = torch.zeros(1)
    torch.save(state, tmp_path / "pytorch_model.bin")
    check_weight_names("p", model, tmp_path, prefix="lang_model.",
                       derived=("rotary_emb.inv_freq",))


def test_loading_info_of_from_pretrained_is_an_error_when_not_clean():
    check_loading_info("m", "x", {"missing_keys": [], "unexpected_keys": set(),
                                  "mismatched_keys": [], "error_msgs": []})
    with pytest.raises(WeightMismatch, match=r"1 of another shape \(lm_head.weight\)"):
        check_loading_info("m", "x", {"mismatched_keys": [("lm_head.weight", (2,), (3,))]})


@pytest.mark.slow
def test_m3d_refuses_a_checkpoint_with_a_renamed_weight(tmp_path, monkeypatch):
    """The adapter's own from_pretrained path: one tensor renamed in model.safetensors."""
    import transformers.dynamic_module_utils as dynamic
    from safetensors.torch import load_file, save_file
    from support.remote_code_folders import build_remote_code_model

    from ct_spatial_bench.models.adapters.m3d import M3DLaMed

    monkeypatch.setattr(dynamic, "HF_MODULES_CACHE", str(tmp_path / "modules"))
    folder = build_remote_code_model(tmp_path / "m3d", "m3d")
    weights = load_file(str(folder / "model.safetensors"))
    weights["vision_tower.weight"] = weights.pop("image_encoder.weight")
    save_file(weights, str(folder / "model.safetensors"), metadata={"format": "pt"})
    with pytest.raises(WeightMismatch) as caught:
        M3DLaMed().load({"model_path": str(folder), "device": "cpu"})
    assert "1 missing from the checkpoint (image_encoder.weight)" in str(caught.value)
    assert "1 in the checkpoint but not in the model (vision_tower.weight)" in str(caught.value)


def test_ct_chat_cuts_its_answer_at_the_first_eot_token():
    """skip_special_tokens drops <|eot_id|> from the text, so the cut is made on token ids."""
    from support.adapter_helpers import word_tokenizer

    from ct_spatial_bench.models.adapters.ct_chat import SEPARATOR, CTChat

    adapter = CTChat()
    adapter.tokenizer = word_tokenizer((SEPARATOR,))
    ids = adapter.tokenizer("left lung " + SEPARATOR + " right side").input_ids
    assert adapter.until_separator(ids) == "left lung"
    assert adapter.tokenizer.decode(ids, skip_special_tokens=True).split(SEPARATOR)[0] \
        == "left lung right side"  # what the old cut kept
