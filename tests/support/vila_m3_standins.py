"""Stand-ins for what VILA-M3's default loader reads: a VLM-Radiology-Agent-Framework checkout
(its VILA submodule's ``llava`` package and ``label_groups_dict.json``) and a VISTA3D bundle.

The ``llava`` modules have VILA's names and call signatures (commit 355fda9, the framework's
submodule) and record what they are given (``LOADED``, ``GENERATED``, ``PROMPTS``, ``IMAGES``); the
model replies with ``REPLIES`` in order (in a worker process: ``VILA_M3_STANDIN_REPLIES``). The
bundle
is a real MONAI bundle config run by ``monai.bundle.create_workflow``: it labels every voxel above
0 HU with the last id of its ``label_prompt`` (1 without one), and writes the labels as VISTA3D's
inference does.
"""

from __future__ import annotations

import json
from pathlib import Path

LLAVA = {
    "__init__.py": "",
    "constants.py": 'IMAGE_TOKEN_INDEX = -200\nDEFAULT_IMAGE_TOKEN = "<image>"\n',
    "utils.py": "DISABLED = []\n\n\ndef disable_torch_init():\n    DISABLED.append(True)\n",
    "conversation.py": '''import dataclasses
from enum import Enum, auto


class SeparatorStyle(Enum):
    SINGLE = auto()
    TWO = auto()
    LLAMA_3 = auto()


@dataclasses.dataclass
class Conversation:
    system: str
    roles: tuple
    messages: list
    sep_style: SeparatorStyle
    sep: str
    sep2: str = None

    def append_message(self, role, message):
        self.messages.append([role, message])

    def copy(self):
        return dataclasses.replace(self, messages=[list(m) for m in self.messages])

    def get_prompt(self):  # VILA's LLAMA_3 layout
        ret = self.system + self.sep
        for index, (role, message) in enumerate(self.messages):
            if message:
                ret += role + message + (self.sep if index < len(self.messages) - 1 else self.sep2)
            else:
                ret += role
        return ret


conv_templates = {"llama_3": Conversation(
    "<system>", ("<user>", "<assistant>"), [], SeparatorStyle.LLAMA_3, "<|eot_id|>",
    "<|end_of_text|>")}
''',
    "mm_utils.py": '''import numpy as np
import torch

PROMPTS, IMAGES = [], []


def get_model_name_from_path(model_path):
    return model_path.strip("/").split("/")[-1]


def process_images(images, image_processor, model_cfg):
    IMAGES.append([np.asarray(image) for image in images])
    return torch.stack([torch.as_tensor(np.asarray(i)).permute(2, 0, 1).float() for i in images])


def tokenizer_image_token(prompt, tokenizer, image_token_index=-200, return_tensors=None,
                          lstrip=False):
    PROMPTS.append(prompt)
    ids = []
    for index, chunk in enumerate(prompt.split("<image>")):
        ids += ([image_token_index] if index else []) + tokenizer(chunk).input_ids
    return torch.tensor(ids) if return_tensors == "pt" else ids


class KeywordsStoppingCriteria:
    def __init__(self, keywords, tokenizer, input_ids):
        self.keywords = keywords
''',
    "model/__init__.py": "",
    "model/builder.py": '''import json
import os
import types

import torch

# the replies in order: a test in this process appends them; one whose model runs in a worker
# process names them in VILA_M3_STANDIN_REPLIES (JSON)
REPLIES = json.loads(os.environ.get("VILA_M3_STANDIN_REPLIES", "[]"))
LOADED, GENERATED = [], []


class Tokenizer:
    bos_token_id, eos_token_id = None, 0

    def __call__(self, text):
        return types.SimpleNamespace(input_ids=[ord(c) for c in text])

    def batch_decode(self, ids, skip_special_tokens=False):
        return ["".join(chr(i) for i in row) for row in ids.tolist()]


class Model(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.projector = torch.nn.Linear(2, 2)
        self.config = types.SimpleNamespace()

    @property
    def device(self):
        return self.projector.weight.device

    @property
    def dtype(self):
        return self.projector.weight.dtype

    def generate(self, input_ids, images=None, **kwargs):
        GENERATED.append({"input_ids": input_ids, "images": images, **kwargs})
        if images:  # the projector takes the pixels: another dtype than its own raises
            self.projector(images[0].flatten(1)[:, :2])
        return torch.tensor([[ord(c) for c in REPLIES.pop(0)]])


def load_pretrained_model(model_path, model_name, model_base=None, load_8bit=False,
                          load_4bit=False, device_map="auto", device="cuda", **kwargs):
    LOADED.append((model_path, model_name, device))
    return Tokenizer(), Model(), object(), 2048
''',
}

# VISTA3D's inference, cut down to what the loader relies on: input_dict in, labels written
# as <name>_trans.nii.gz in output_dir (no ignite: the "evaluator" is a plain loop)
BUNDLE_INFERENCE = {
    "imports": ["$import torch", "$import types"],
    "bundle_root": ".", "output_dir": "$@bundle_root + '/eval'", "output_dtype": "$torch.float32",
    "output_ext": ".nii.gz", "separate_folder": True, "input_dict": "${'image': ''}",
    "label_value": "$@input_dict.get('label_prompt', [1])[-1]",
    "device": "$torch.device('cpu')", "network": {"_target_": "torch.nn.Identity"},
    "inferer": {"_target_": "SimpleInferer"},
    "preprocessing": {"_target_": "Compose", "transforms": [
        {"_target_": "LoadImaged", "keys": "image", "image_only": True},
        {"_target_": "EnsureChannelFirstd", "keys": "image"}]},
    "dataset": {"_target_": "Dataset", "data": "$[@input_dict]", "transform": "@preprocessing"},
    "postprocessing": {"_target_": "Compose", "transforms": [
        {"_target_": "Lambdad", "keys": "pred",
         "func": "$lambda x: ((x > 0) * @label_value).to(torch.uint8)"},
        {"_target_": "SaveImaged", "keys": "pred", "output_dir": "@output_dir",
         "output_ext": "@output_ext", "output_dtype": "@output_dtype",
         "separate_folder": "@separate_folder", "resample": False}]},
    "evaluator": "$types.SimpleNamespace(run=lambda: [@postprocessing({'pred': "
                 "@inferer(d['image'][None], @network)[0]}) for d in @dataset])",
    "initialize": [], "run": ["$@evaluator.run()"],
}


# A model cards text in the form of the demo's (one line per expert, the VISTA3D line naming
# its valid arguments, the closing instruction); written here, not copied from the demo.
MODEL_CARDS = ("Here is a list of available expert models:\n<VISTA3D(args)> Modality: CT, Task: "
               "segmentation, Valid args are: 'everything', 'lung tumor', 'organs'\n"
               "Give the model <NAME(args)> when selecting a suitable expert model.\n")


def write_m3_checkout(folder: Path, label_groups: dict, model_cards: str = MODEL_CARDS) -> Path:
    """``folder`` laid out as the framework's checkout: thirdparty/VILA/llava, the demo's label
    groups and its ``gradio_m3.py`` assigning ``MODEL_CARDS`` among other statements."""
    for name, text in LLAVA.items():
        path = folder / "thirdparty" / "VILA" / "llava" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    groups = folder / "m3" / "demo" / "experts" / "label_groups_dict.json"
    groups.parent.mkdir(parents=True)
    groups.write_text(json.dumps(label_groups))
    (folder / "m3" / "demo" / "gradio_m3.py").write_text(
        "import gradio as gr\n\nEXAMPLE = {'a': 1}\n\n"
        f"MODEL_CARDS = {model_cards!r}\n\nSYS_PROMPT = None\n")
    return folder


def write_vista3d_bundle(folder: Path) -> Path:
    configs = folder / "configs"
    configs.mkdir(parents=True)
    (configs / "inference.json").write_text(json.dumps(BUNDLE_INFERENCE, indent=1))
    (configs / "metadata.json").write_text(json.dumps({"version": "0.0.1"}))
    return folder
