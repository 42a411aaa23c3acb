"""The adapters whose authors ship a package or a code folder, with small stand-ins that have the
authors' call signatures (M3D-LaMed and Med3DVLM ship hub remote code: test_remote_code_adapters.py;
VILA-M3's default loader: test_vila_m3_loader.py).

Each test feeds the model's own preprocessing spec (conf/base, with a smaller shape where the
real one is large) and checks what reaches the model: shape, axis order, value range, the image
tokens in the prompt, greedy decoding, and that a mirrored patient arrives mirrored.
"""

from dataclasses import replace

import numpy as np
import pytest
import torch
import yaml
from skimage.color import label2rgb
from support.adapter_helpers import PATHS, dtype_on, gpu_dtype, mirrored, word_tokenizer

from ct_spatial_bench.imaging.slices import depth_by_rule
from ct_spatial_bench.imaging.specs import InputSpec, apply_spec
from ct_spatial_bench.inference.loop import run_model
from ct_spatial_bench.models.adapters.ct_chat import CTChat
from ct_spatial_bench.models.adapters.merlin import MerlinReport
from ct_spatial_bench.models.adapters.radfm import RadFM, image_placeholder
from ct_spatial_bench.models.adapters.vila_m3 import VilaM3, overlay
from ct_spatial_bench.models.base import Question

SPECS = yaml.safe_load(open("conf/base/parameters_preprocessing.yml"))["preprocessing"]["specs"]


def spec(name, **changes):
    return replace(InputSpec.from_params(name, SPECS[name]), **changes)


class Recorder(torch.nn.Module):
    """Records every call; ``reply`` builds what ``generate`` returns."""

    def __init__(self, reply):
        super().__init__()
        self.weight = torch.nn.Linear(2, 2)
        self.calls = []
        self.reply = reply

    def first_layer(self, args, kwargs):
        """Each floating input through a layer of the model's own weights, as the authors' first
        layer takes it: an input of another dtype than the model's raises, as on a GPU."""
        for value in [*args, *kwargs.values()]:
            if torch.is_tensor(value) and value.is_floating_point():
                self.weight(value.reshape(-1)[:2].reshape(1, 2))

    def generate(self, *args, **kwargs):
        self.calls.append((args, kwargs))
        self.first_layer(args, kwargs)
        return self.reply(*args, **kwargs)

    def forward(self, *args, **kwargs):  # CTViT's encoder is called, not generate()d
        self.calls.append((args, kwargs))
        self.first_layer(args, kwargs)
        return torch.zeros(1, 8, 4)


class RadFMVision(Recorder):
    """RadFM's vision path in small: the 3D ViT's patch embedding, LayerNorm then Linear over
    (p1 p2 p3 c) patch vectors of ``vision_x`` ``(B, S, 3, H, W, D)``, p = 4 in-plane and 4 in
    depth; float32 as ``torch.load`` gives the authors' checkpoint."""

    def __init__(self, reply):
        super().__init__(reply)
        self.norm = torch.nn.LayerNorm(3 * 4 * 4 * 4)
        self.embed = torch.nn.Linear(3 * 4 * 4 * 4, 8)

    def first_layer(self, args, kwargs):
        lang_x, vision_x = args
        b, s, c, h, w, d = vision_x.shape
        patches = (vision_x.reshape(b * s, c, h // 4, 4, w // 4, 4, d // 4, 4)
                   .permute(0, 2, 4, 6, 3, 5, 7, 1).reshape(b * s, -1, 4 * 4 * 4 * c))
        self.embed(self.norm(patches))


def _answer(adapter, image, question="which side"):
    [answer] = adapter.answer_volume(image, [Question("q", question)])
    return answer


def _ask(adapter, image, question="which side"):
    return _answer(adapter, image, question).text


def _sent(model, position=0):
    args, kwargs = model.calls[-1]
    return args[position] if len(args) > position else None, kwargs


@pytest.mark.parametrize("path", PATHS)
def test_merlin_gets_ras_xyz_0_to_1_padded(ras_volume, path):
    assert SPECS["merlin"]["shape"] == [224, 224, 160] and SPECS["merlin"]["spacing"] == [1.5,
                                                                                        1.5, 3.0]
    model = Recorder(lambda images, prompts, **kw: ["Right lung###Liver"])
    adapter = MerlinReport()
    adapter.load({"model_path": "stanfordmimi/Merlin", "device": "cpu",
                  "dtype": dtype_on(path, MerlinReport),
                  "factory": lambda config, owner: {"model": model}})
    small = spec("merlin", shape=(16, 16, 8))
    assert _ask(adapter, apply_spec(ras_volume, small)) == "Right lung"
    images, kwargs = _sent(model)
    assert images.shape == (1, 1, 16, 16, 8) and images.min() == 0 and images.max() > 0.5
    assert images[0, 0, :2].abs().sum() == 0  # padding is 0 (-1000 HU)
    assert model.calls[-1][0][1] == ["which side###\n"]
    assert kwargs["do_sample"] is False and kwargs["repetition_penalty"] == 1.2
    _ask(adapter, apply_spec(mirrored(ras_volume), small))
    torch.testing.assert_close(_sent(model)[0], images.flip(2))  # x is the first spatial axis


# RadFM on a GPU: float32 as its demo runs it, and bfloat16 where memory asks for it; before the
# fix the model stayed float32 while vision_x took the configured dtype, so the patch embedding
# raised on every item
@pytest.mark.parametrize("dtype", [gpu_dtype(RadFM), "bfloat16"])
def test_radfm_gets_3_channels_hwd_with_its_image_tokens(ras_volume, dtype):
    assert depth_by_rule(300, 4, 64) == 64 and depth_by_rule(30, 4, 64) == 28
    assert depth_by_rule(6, 4, 64) == 4  # a tie goes to the smaller depth
    markers = ["<image>", "</image>"] + [f"<image{i}>" for i in range(32)]
    tokenizer = word_tokenizer(tuple(markers))
    model = RadFMVision(lambda lang_x, vision_x: torch.tensor([[tokenizer.convert_tokens_to_ids(
        "right")]]))
    adapter = RadFM()
    adapter.load({"model_path": "stand-in", "device": "cpu", "dtype": dtype,
                  "factory": lambda config, owner: {"model": model, "tokenizer": tokenizer}})
    small = spec("radfm", shape=(16, 16, None))
    items = [{"qa_id": "v::0", "image_path": "v.nii.gz", "question": "which side"}]
    [pred] = run_model(adapter, items, lambda _: apply_spec(ras_volume, small), {},
                       progress=False)
    assert pred["status"] == "ok", pred["error"]  # the runner records a raise as an error
    assert pred["prediction"] == "right"
    (lang_x, vision_x), _ = model.calls[-1]
    assert vision_x.dtype == model.embed.weight.dtype == getattr(torch, dtype)
    vision_x = vision_x.float()
    assert vision_x.shape == (1, 1, 3, 16, 16, 8)  # D = 8: the phantom's 8 slices
    assert torch.equal(vision_x[:, :, 0], vision_x[:, :, 2])
    assert vision_x.min() == 0 and vision_x.max() == 1
    assert pred["prompt"] == image_placeholder(0) + "which side"
    marker_ids = set(tokenizer.convert_tokens_to_ids(markers))
    assert sum(int(i) in marker_ids for i in lang_x[0]) == 34
    _ask(adapter, apply_spec(mirrored(ras_volume), small))
    torch.testing.assert_close(model.calls[-1][0][1].float(), vision_x.flip(4))  # W: R -> L
    with pytest.raises(ValueError, match="fixes its decoding"):
        RadFM().load({"model_path": "x", "device": "cpu", "generation": {"do_sample": True},
                      "factory": lambda config, owner: {"model": model, "tokenizer": tokenizer}})


@pytest.mark.parametrize("path", PATHS)
def test_ct_chat_encodes_the_ct_and_puts_it_in_the_prompt(ras_volume, path):
    assert SPECS["ct_chat"]["shape"] == [240, 480, 480]
    assert SPECS["ct_chat"]["spacing"] == [0.75, 0.75, 1.5]
    tokenizer = word_tokenizer(("<provided>", "<short_answer>"))
    encoder = Recorder(None)
    model = Recorder(lambda ids, **kw: torch.tensor([[tokenizer.convert_tokens_to_ids("left")]]))
    adapter = CTChat()
    adapter.load({"model_path": "stand-in", "encoder_path": "stand-in", "device": "cpu",
                  "dtype": dtype_on(path, CTChat),
                  "factory": lambda c, o: {"encoder": encoder, "model": model,
                                           "tokenizer": tokenizer}})
    small = spec("ct_chat", shape=(16, 24, 24))
    assert _ask(adapter, apply_spec(ras_volume, small)) == "left"
    volume = encoder.calls[-1][0][0]
    assert encoder.calls[-1][1] == {"return_encoded_tokens": True}
    assert volume.shape == (1, 1, 16, 24, 24) and volume.min() == -1 and volume.max() <= 1
    ids, kwargs = _sent(model)
    assert int((ids == -200).sum()) == 1 and kwargs["images"].shape == (1, 8, 4)
    # gradio_web_server.py sends ("<image>\n <provided>" + text + " <short_answer>", image, mode);
    # conversation.py's get_prompt replaces that first turn by "<image>\n" + its text with
    # "<image>" removed and stripped; llama3 is SeparatorStyle.MPT: role + message + sep
    sent_text = "<image>\n <provided>" + "which side" + " <short_answer>"
    turn = "<image>\n" + sent_text.replace("<image>", "").strip()
    assert turn == "<image>\n<provided>which side <short_answer>"
    assert _answer(adapter, apply_spec(ras_volume, small)).prompt.endswith(
        "<|eot_id|><|start_header_id|>user<|end_header_id|>\n\n" + turn + "<|eot_id|>"
        "<|start_header_id|>assistant<|end_header_id|>\n\n")
    assert kwargs["do_sample"] is False
    _ask(adapter, apply_spec(mirrored(ras_volume), small))
    torch.testing.assert_close(encoder.calls[-1][0][0], volume.flip(-1))


def test_vila_m3_shows_the_vista3d_overlay_when_asked_for_it(ras_volume):
    replies = iter(["<VISTA3D(everything)>", "The right lung."])
    conversations = []

    def chat(messages, generation):
        conversations.append(([dict(m) for m in messages], generation))
        return next(replies)

    def segment(image, label_prompt=None):
        assert label_prompt is None  # "everything"
        return (np.asanyarray(image.dataobj) > 0).astype(np.uint8)

    adapter = VilaM3()
    adapter.load({"model_path": "stand-in", "vista3d_bundle": "stand-in", "device": "cpu",
                  "factory": lambda c, o: {"chat": chat, "segment": segment,
                                           "model_cards": "CARDS <VISTA3D(args)>\n",
                                           "label_groups": {"everything": "label_dict.json",
                                                            "tumor": {"lung tumor": 1}}}})
    assert _ask(adapter, apply_spec(ras_volume, InputSpec("ras_hu"))) == "The right lung."
    first, second = conversations[0][0][0], conversations[1][0][-1]
    assert first["text"] == "CARDS <VISTA3D(args)>\n<image>This is a CT image.\nwhich side"
    assert first["images"][0].shape == (10, 12, 3) and first["images"][0].dtype == np.uint8
    assert second["text"].startswith("The results are <image>. The colors in this image "
                                     "describe red: lung tumor. Use this result")
    coloured = np.argwhere(second["images"][0][..., 0] != second["images"][0][..., 1])
    assert len(coloured) and coloured[:, 1].max() < 6  # the patient's right: the image's left
    # the demo's Dye: label2rgb(labels, colors=Dye.COLORS ("red", "blue", ...), image=grey,
    # bg_label=0) * 255 as uint8, on the displayed slice of the labels
    grey = first["images"][0][..., 0]
    labels = (np.asanyarray(ras_volume.dataobj) > 0).astype(np.uint8)
    shown = np.rot90(np.swapaxes(labels[:, :, labels.shape[2] // 2], 0, 1), k=2)
    expected = label2rgb(shown, image=grey, colors=["red", "blue"], bg_label=0) * 255
    np.testing.assert_array_equal(second["images"][0], expected.astype(np.uint8))
    assert conversations[0][1]["do_sample"] is False


def test_vila_m3_overlay_darkens_the_background_as_label2rgb_does():
    """label2rgb's overlay with the default black background and alpha 0.3: an unlabelled grey
    200 becomes 200/255 * 0.7 * 255 = 140 in floating point, 139 after the uint8 cast; a pixel
    labelled 1 (red) becomes 0.7 * 200 + 0.3 * 255 in red, 0.7 * 200 in green and blue."""
    grey = np.full((2, 2), 200, dtype=np.uint8)
    labels = np.array([[0, 0], [0, 1]])
    coloured, colours = overlay(grey, labels)
    np.testing.assert_array_equal(coloured[0, 0], [139, 139, 139])
    red = np.floor(np.array([0.7 * 200 / 255 + 0.3, 0.7 * 200 / 255, 0.7 * 200 / 255]) * 255)
    np.testing.assert_allclose(coloured[1, 1], red, atol=1)
    assert colours == {1: "red"}
    np.testing.assert_array_equal(
        coloured, (label2rgb(labels, image=grey, bg_label=0, alpha=0.3,
                             colors=["red"]) * 255).astype(np.uint8))
