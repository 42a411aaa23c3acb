"""VILA-M3's default loader on stand-ins of the framework checkout and the VISTA3D bundle.

The chat goes through stand-in ``llava`` modules with VILA's signatures (``vila_m3_standins``);
the expert is a MONAI bundle run by the real ``monai.bundle.create_workflow``. Checked: the
conversation the demo builds, the slices sent, greedy decoding with the demo's stopping, the
label prompt of the requested group reaching the bundle, and the overlay's label names.
"""

import os
import sys

import numpy as np
import pytest
import torch
from support.adapter_helpers import PATHS, dtype_on
from support.vila_m3_standins import MODEL_CARDS, write_m3_checkout, write_vista3d_bundle

from ct_spatial_bench.imaging.specs import InputSpec, apply_spec
from ct_spatial_bench.models.adapters.vila_m3 import VilaM3, expert_request, label_names_of
from ct_spatial_bench.models.base import Question
from ct_spatial_bench.models.common import ModelNotConfigured

GROUPS = {"everything": "../experts/vista3d/label_dict.json",
          "lung tumor": {"lung": 20, "lung tumor": 23, "left lung lower lobe": 29},
          "organs": {"liver": 1, "left lung lower lobe": 29}}


@pytest.fixture
def isolated_imports(monkeypatch):
    """The stand-in ``llava`` and the bundle folder leave sys.path and sys.modules as found."""
    monkeypatch.setattr(sys, "path", list(sys.path))
    yield
    for name in [n for n in sys.modules if n == "llava" or n.startswith("llava.")]:
        del sys.modules[name]


def test_expert_requests_are_read_as_the_demo_reads_them():
    assert expert_request("<VISTA3D(lung tumor)>", GROUPS) == "lung tumor"
    assert expert_request("Let me call <VISTA3D>.", GROUPS) == "everything"
    assert expert_request("<VISTA3D()>", GROUPS) == "everything"
    for refused in ("<VISTA3D(kidney stone)>", "<VISTA3D(organs)(lung tumor)>",
                    "<VISTA3D(organs)> <BRATS>", "no expert", "<CXR>"):
        assert expert_request(refused, GROUPS) is None
    assert label_names_of(GROUPS) == {20: "lung", 23: "lung tumor", 29: "left lung lower lobe",
                                      1: "liver"}


@pytest.mark.slow
@pytest.mark.parametrize("path", PATHS)
def test_default_loader_runs_vila_and_the_vista3d_bundle(ras_volume, tmp_path, isolated_imports,
                                                         path):
    checkout = write_m3_checkout(tmp_path / "framework", GROUPS)
    adapter = VilaM3()
    adapter.load({"model_path": "/models/Llama3-VILA-M3-8B/", "device": "cpu",
                  "m3_dir": str(checkout),
                  "vista3d_bundle": str(write_vista3d_bundle(tmp_path / "vista3d"))})
    # on a GPU VILA's load_pretrained_model gives a float16 model: the pixels must follow it
    model_dtype = getattr(torch, dtype_on(path, VilaM3))
    adapter._modules[0].to(model_dtype)
    builder, mm_utils = sys.modules["llava.model.builder"], sys.modules["llava.mm_utils"]
    assert builder.LOADED == [("/models/Llama3-VILA-M3-8B/", "Llama3-VILA-M3-8B", "cpu")]
    assert sys.modules["llava.utils"].DISABLED == [True]
    builder.REPLIES += ["<VISTA3D(lung tumor)><|eot_id|>", "The right lung.<|eot_id|>"]

    image = apply_spec(ras_volume, InputSpec("ras_hu"))
    assert [a.text for a in adapter.answer_volume(image, [Question("q", "which side")])] == [
        "The right lung."]
    first, second = mm_utils.PROMPTS
    # gradio_m3.py: _prompt = model_cards + "<image>" + mod_msg + prompt, with model_cards the
    # MODEL_CARDS that the checkout's demo file assigns (use_model_cards is True)
    assert first == ("<system><|eot_id|><user>" + MODEL_CARDS + "<image>This is a CT image.\n"
                     "which side<|eot_id|><assistant>")
    expert = ("<user>The results are <image>. The colors in this image describe red: left lung "
              "lower lobe. Use this result to respond to this prompt:\nwhich side<|eot_id|>")
    assert second == (first[:-len("<assistant>")] + "<assistant><VISTA3D(lung tumor)><|eot_id|>"
                      + expert + "<assistant>")  # the stop string was cut from the reply

    calls = builder.GENERATED
    assert [int((c["input_ids"] == -200).sum()) for c in calls] == [1, 2]
    grey, coloured = mm_utils.IMAGES[1]
    np.testing.assert_array_equal(mm_utils.IMAGES[0][0], grey)
    assert grey.shape == (10, 12, 3) and calls[1]["images"][0].shape == (2, 3, 10, 12)
    assert calls[1]["images"][0].dtype == model_dtype
    tinted = np.argwhere(coloured[..., 0] != coloured[..., 1])
    assert len(tinted) and tinted[:, 1].max() < 6  # the block, patient's right: image's left
    settings = {k: v for k, v in calls[0].items() if k not in ("input_ids", "images")}
    assert settings.pop("stopping_criteria")[0].keywords == ["<|eot_id|>"]
    assert settings == {"use_cache": True, "pad_token_id": 0, "do_sample": False, "num_beams": 1,
                        "max_new_tokens": 1024, "min_new_tokens": 2}


def test_default_loader_says_which_setting_is_missing():
    with pytest.raises(ModelNotConfigured, match="m3_dir"):
        VilaM3().load({"model_path": "x", "vista3d_bundle": "y", "device": "cpu"})


def test_model_cards_come_from_the_configured_demo_file(tmp_path):
    """``model_cards_file`` names the demo's gradio_m3.py (or a text file) when there is no
    ``m3_dir``; a file that assigns no MODEL_CARDS is a configuration error, not empty cards."""
    from ct_spatial_bench.models.adapters.vila_m3_loader import read_model_cards

    demo = write_m3_checkout(tmp_path / "framework", GROUPS) / "m3" / "demo" / "gradio_m3.py"
    assert read_model_cards(demo) == MODEL_CARDS
    (tmp_path / "cards.txt").write_text("cards\n")
    assert read_model_cards(tmp_path / "cards.txt") == "cards\n"
    (tmp_path / "other.py").write_text("SYS_PROMPT = None\n")
    with pytest.raises(ModelNotConfigured, match="MODEL_CARDS"):
        read_model_cards(tmp_path / "other.py")


REAL_CHECKOUT = os.environ.get("VILA_M3_FRAMEWORK_DIR")  # a checkout of the framework, if any


@pytest.mark.skipif(not REAL_CHECKOUT, reason="VILA_M3_FRAMEWORK_DIR (a checkout of "
                    "Project-MONAI/VLM-Radiology-Agent-Framework) is not set")
def test_model_cards_of_a_real_checkout_are_the_demos():
    """The cards read from the authors' own demo file, its MODEL_CARDS line evaluated here by a
    regular expression rather than the loader's parser, offer VISTA3D."""
    import ast
    import re

    from ct_spatial_bench.models.adapters.vila_m3_loader import read_model_cards

    demo = os.path.join(REAL_CHECKOUT, "m3", "demo", "gradio_m3.py")
    line = re.search(r"^MODEL_CARDS = (.*)$", open(demo).read(), re.MULTILINE).group(1)
    cards = ast.literal_eval(line)
    assert "<VISTA3D(args)>" in cards
    assert read_model_cards(demo) == cards
