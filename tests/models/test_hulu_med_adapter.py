"""Hulu-Med on stand-ins with the call signatures of its notebook (transformers has no Hulu-Med
class: its model and processor are the authors' own ``hulumed`` code, Qwen-based).

Checked against ``Inference.ipynb`` and ``hulumed/mm_utils.slice_nifti_to_images``, recomputed
here by hand: 160 axial slices at ``linspace(0, n - 1, 160, dtype=int)``, each min-maxed on its
own to uint8 RGB; one video turn of that many frames and the question; ``merge_size=2``,
``modals=["video"]``; pixel values in the model's dtype, on the CPU path and the GPU's bfloat16.
"""

import numpy as np
import pytest
import torch
from support.adapter_helpers import (
    PATHS,
    display_slices,
    dtype_on,
    mirrored,
    tall_volume,
    word_tokenizer,
)

from ct_spatial_bench.imaging.specs import InputSpec, apply_spec
from ct_spatial_bench.inference.loop import run_model
from ct_spatial_bench.models.adapters.hulu_med import HuluMed
from ct_spatial_bench.models.base import Question

SPEC = InputSpec.from_params("hulu_med", {"orientation": "LPS", "slices": 160,
                                          "slice_sampling": "hulu_med", "axis_order": "zyx",
                                          "output": "npy"})


class Processor:
    """HulumedProcessor's call: ``(images=[[PIL, ...]], text=conversation, merge_size, ...)``."""

    def __init__(self, tokenizer):
        self.tokenizer, self.calls = tokenizer, []

    def __call__(self, images, text, merge_size=1, return_tensors=None):
        self.calls.append({"images": images, "text": text, "merge_size": merge_size})
        pixels = torch.stack([torch.from_numpy(np.asarray(p)).permute(2, 0, 1).float() / 255
                              for p in images[0]])
        return {"input_ids": torch.tensor([[2, 5, 6]]), "pixel_values": pixels}


class Model(torch.nn.Module):
    """The vision tower's first layer over the pixels: a dtype other than its own raises."""

    def __init__(self):
        super().__init__()
        self.patch = torch.nn.Linear(3, 4)
        self.calls = []

    def generate(self, **kwargs):
        self.calls.append(kwargs)
        self.patch(kwargs["pixel_values"].permute(0, 2, 3, 1))
        return torch.tensor([[7]])


def _loaded(path, **config):
    tokenizer = word_tokenizer()
    tokenizer.chat_template = ("{% for m in messages %}{% for c in m['content'] %}"
                               "{% if c['type'] == 'video' %}{% for i in range(c['num_frames']) %}"
                               "<image>{% endfor %}{% else %}{{ c['text'] }}{% endif %}"
                               "{% endfor %}{% endfor %}")
    parts = {"model": Model(), "tokenizer": tokenizer, "processor": Processor(tokenizer)}
    adapter = HuluMed()
    adapter.load({"model_path": "stand-in", "code_dir": "stand-in", "device": "cpu",
                  "dtype": dtype_on(path, HuluMed), "factory": lambda config, owner: parts,
                  **config})
    return adapter, parts


def notebook_slices(hu_slices):
    """slice_nifti_to_images by hand: per-slice (x - min) / (max - min) * 255, uint8, RGB."""
    out = []
    for hu in hu_slices.astype(np.float64):
        if hu.max() > hu.min():
            hu = (hu - hu.min()) / (hu.max() - hu.min()) * 255.0
        out.append(np.repeat(hu.astype(np.uint8)[..., None], 3, axis=-1))
    return np.stack(out)


def test_spec_is_the_notebooks(tmp_path):
    import yaml

    params = yaml.safe_load(open("conf/base/parameters_preprocessing.yml"))
    assert InputSpec.from_params("hulu_med", params["preprocessing"]["specs"]["hulu_med"]) == SPEC


@pytest.mark.parametrize("path", PATHS)
def test_sends_160_min_maxed_slices_as_one_video_turn(path):
    volume = tall_volume(40)
    adapter, parts = _loaded(path)
    items = [{"qa_id": "v::0", "image_path": "v.nii.gz", "question": "which side"}]
    [pred] = run_model(adapter, items, lambda _: apply_spec(volume, SPEC), {}, progress=False)
    assert pred["status"] == "ok", pred["error"]

    [call] = parts["processor"].calls
    wanted = np.linspace(0, 40 - 1, 160, dtype=int)  # the notebook's sampling, repeats kept
    # slices bottom to top (LPS, z first): display_slices is top to bottom
    hu = display_slices(volume)[::-1][wanted]
    np.testing.assert_array_equal(np.stack([np.asarray(p) for p in call["images"][0]]),
                                  notebook_slices(hu))
    assert call["merge_size"] == 2
    assert call["text"] == [{"role": "user", "content": [
        {"type": "video", "num_frames": 160},
        {"type": "text", "text": "This is a medical 3D scenario. which side"}]}]
    [sent] = parts["model"].calls
    assert sent["modals"] == ["video"] and sent["do_sample"] is False
    assert sent["pixel_values"].dtype == parts["model"].patch.weight.dtype == getattr(
        torch, dtype_on(path, HuluMed))
    assert pred["prompt"].count("<image>") == 160


def test_a_mirrored_patient_reaches_hulu_med_mirrored():
    adapter, parts = _loaded("cpu")
    volume = tall_volume(12)
    for image in (volume, mirrored(volume)):
        run_model(adapter, [{"qa_id": "q", "image_path": "v", "question": "which side"}],
                  lambda _, image=image: apply_spec(image, SPEC), {}, progress=False)
    shown, flipped = ([np.asarray(p) for p in call["images"][0]]
                      for call in parts["processor"].calls)
    np.testing.assert_array_equal(np.stack(flipped), np.stack(shown)[:, :, ::-1])


@pytest.mark.parametrize("reply, cut", [([7, 8, 9], True), ([7, 8, 3], False), ([7], False)])
def test_an_answer_cut_by_the_budget_is_marked(reply, cut):
    """A budget of 3 new tokens and the checkpoint's end token 3: three tokens without it were
    cut; three ending with it, or fewer, ended on their own."""
    import types

    adapter, parts = _loaded("cpu", generation={"max_new_tokens": 3})
    model = parts["model"]
    model.generation_config = types.SimpleNamespace(eos_token_id=3, max_new_tokens=None)
    model.generate = lambda **kwargs: torch.tensor([reply])
    [answer] = adapter.answer_volume(apply_spec(tall_volume(8), SPEC), [Question("q", "side")])
    assert answer.hit_token_limit is cut
