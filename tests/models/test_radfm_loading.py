"""RadFM's loader on the layout its authors publish: the language model from Language_files'
config (that folder holds no weights, so the authors' own from_pretrained of it fails), every
weight from pytorch_model.bin, strictly; generation ends at </s>."""

from __future__ import annotations

import sys

import pytest
import torch
from radfm_folders import write_radfm

from ct_spatial_bench.models.adapters.radfm import RADFM_EOS, radfm_model
from ct_spatial_bench.models.strict_loading import WeightMismatch


@pytest.fixture(scope="module")
def radfm(tmp_path_factory):
    return write_radfm(tmp_path_factory.mktemp("radfm"))


@pytest.fixture(autouse=True)
def fresh_model_package():
    yield
    for name in [m for m in sys.modules if m == "Model" or m.startswith("Model.")]:
        del sys.modules[name]
    sys.path[:] = [p for p in sys.path if not p.endswith("Quick_demo")]


def test_the_authors_from_pretrained_of_language_files_fails(radfm):
    from transformers import LlamaForCausalLM

    with pytest.raises(OSError):
        LlamaForCausalLM.from_pretrained(radfm["language_files"])


def test_builds_from_config_and_loads_every_weight_of_the_bin(radfm):
    model = radfm_model(str(radfm["code_dir"]), str(radfm["language_files"]),
                        str(radfm["model_path"] / "pytorch_model.bin"))
    saved = torch.load(radfm["model_path"] / "pytorch_model.bin", weights_only=True)
    for name, tensor in model.state_dict().items():
        torch.testing.assert_close(tensor, saved[name], rtol=0, atol=0)
    assert model.lang_model.generation_config.eos_token_id == RADFM_EOS == 2


def test_a_bin_with_a_missing_weight_is_refused(radfm, tmp_path):
    saved = torch.load(radfm["model_path"] / "pytorch_model.bin", weights_only=True)
    del saved["embedding_layer.vision_proj.bias"]
    torch.save(saved, tmp_path / "pytorch_model.bin")
    with pytest.raises(WeightMismatch, match=r"1 missing from the checkpoint "
                                             r"\(embedding_layer.vision_proj.bias\)"):
        radfm_model(str(radfm["code_dir"]), str(radfm["language_files"]),
                    str(tmp_path / "pytorch_model.bin"))


@pytest.mark.parametrize("setting, cut", [("suppress_tokens", True),
                                          ("forced_eos_token_id", False)])
def test_an_answer_cut_at_its_200_tokens_is_marked(radfm, setting, cut):
    """Its generate fixes 200 new tokens. </s> suppressed, every answer runs to 200 (cut);
    forced as the 200th token, the answer is as long but ended on its own."""
    from ct_spatial_bench.models.adapters.radfm import RadFM
    from ct_spatial_bench.models.base import Question

    from support.adapter_helpers import word_tokenizer

    model = radfm_model(str(radfm["code_dir"]), str(radfm["language_files"]),
                        str(radfm["model_path"] / "pytorch_model.bin"))
    adapter = RadFM()  # its LLaMA tokenizer needs its own transformers (env check radfm)
    adapter.load({"model_path": "stand-in", "device": "cpu",
                  "factory": lambda c, o: {"model": model, "tokenizer": word_tokenizer()}})
    adapter.model.lang_model.generation_config.update(
        **{setting: [RADFM_EOS] if setting == "suppress_tokens" else RADFM_EOS})
    volume = torch.rand(16, 16, 8).numpy()  # its input spec: (H, W, D), min-maxed
    [answer] = adapter.answer_volume(volume, [Question("q", "which side")])
    assert answer.hit_token_limit is cut
