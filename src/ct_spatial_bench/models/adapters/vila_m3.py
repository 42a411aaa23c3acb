"""VILA-M3 with the VISTA3D expert, on the slice the authors' demo shows.

Project-MONAI/VLM-Radiology-Agent-Framework ``m3/demo/gradio_m3.py`` and ``m3/demo/experts/``:
the middle axial slice (``shape[2] // 2`` after ``Orientation("RAS")``), CT window centre 50 /
width 400 to 0..255, shown in radiological display (``rot90(swapaxes(slice), 2)``); the first user
turn is ``model cards + "<image>" + "This is a CT image.\\n" + question``; when the model names
``<VISTA3D(...)>`` (or always, ``expert: always``) VISTA3D segments the volume, the slice is shown
again with the labels coloured (``Dye``: label2rgb over the grey slice), and the expert turn
``"The results are <image>. The colors in this image describe red: liver, ... "`` plus
``"Use this result to respond to this prompt:\\n" + question`` is asked; greedy decoding. The
reply's ``<VISTA3D(group)>`` picks the labels VISTA3D is prompted with (a group of
``label_groups_dict.json``, "everything" by default); a request the demo refuses (an unknown
group, several arguments) or a reply saying "segmented" ends the exchange at the first reply, as
in the demo. The default loader is ``vila_m3_loader.load_vila_m3``.
"""

from __future__ import annotations

import re
from typing import Any

from ct_spatial_bench.models.base import Answer, Question
from ct_spatial_bench.models.common import ModelNotConfigured, NeuralAdapter
from ct_spatial_bench.models.components import resolve_factory
from ct_spatial_bench.models.cards import ModelCard
from ct_spatial_bench.models.adapters.vila_m3_loader import load_vila_m3

WINDOW = (50 - 400 / 2, 50 + 400 / 2)
COLORS = ("red", "blue", "yellow", "magenta", "green", "indigo", "darkorange", "cyan", "pink",
          "brown", "orange", "lime", "orange", "gold", "yellowgreen", "darkgreen")
EXPERT = "VISTA3D"
# Project-MONAI/VLM-Radiology-Agent-Framework@fc8c5a7 m3/train/m3-vila8b.sh:73-75,82: SigLIP
# so400m-patch14-384 with every token kept (cls_patch), the mlp_downsample projector, images
# resized to its side. NVlabs/VILA@355fda9 llava/model/multimodal_projector/base_projector.py:
# 57-68 (DownSampleBlock.flat_square): the 27 x 27 grid padded to even, 2 x 2 merged.
SIGLIP_SIDE, SIGLIP_PATCH = 384, 14
IMAGES_PER_QUESTION = 2  # the slice, and the expert's overlay in the second turn


def expert_request(reply: str, label_groups: dict[str, Any]) -> str | None:
    """The label group a reply asks VISTA3D for, read as the demo reads it (exactly one ``<...>``,
    naming VISTA3D; its ``(argument)``, or "everything"); None when it asks for no expert or for
    one the demo refuses."""
    tags = re.findall(r"<(.*?)>", reply)
    if len(tags) != 1 or EXPERT not in tags[0]:
        return None
    arguments = re.findall(r"\((.*?)\)", tags[0][len(EXPERT):])
    if len(arguments) > 1:
        return None
    group = arguments[0] if arguments and arguments[0] else "everything"
    return group if group in label_groups else None


def label_names_of(label_groups: dict[str, Any]) -> dict[int, str]:
    """Label id to name: the first group naming the id (groups that are file paths are skipped)."""
    names: dict[int, str] = {}
    for group in label_groups.values():
        if isinstance(group, dict):
            for name, label in group.items():
                names.setdefault(int(label), name)
    return names


def display_slice(volume_ras: Any, index: int | None = None) -> Any:
    """The axial slice ``index`` (default middle) of a RAS array, rows anterior to posterior and
    columns patient right to left, as the demo's ``Dye`` writes it."""
    import numpy as np

    index = volume_ras.shape[2] // 2 if index is None else index
    return np.rot90(np.swapaxes(np.take(volume_ras, index, axis=2), 0, 1), k=2)


def grey_slice(hu_slice: Any) -> Any:
    """Window 50/400 to 0..255, cast to uint8 by truncation as the demo does."""
    import numpy as np

    from ct_spatial_bench.imaging.intensity import window

    return window(hu_slice, *WINDOW, out_range=(0.0, 255.0)).astype(np.uint8)


def overlay(grey: Any, labels: Any) -> tuple[Any, dict[int, str]]:
    """The demo's ``Dye``: ``skimage.color.label2rgb(labels, colors=COLORS, image=grey,
    bg_label=0) * 255`` cast to uint8 (alpha 0.3, black background: unlabelled pixels darken to
    70 %), and the colour of each label id, cycling ``COLORS`` in the order of the ids."""
    import itertools

    import numpy as np
    from skimage.color import label2rgb

    labels = np.asarray(labels).astype(np.uint8)  # as the demo's Dye casts both slices
    coloured = label2rgb(labels, image=grey, colors=list(COLORS), bg_label=0) * 255
    ids = [int(v) for v in np.unique(labels) if v != 0]
    return coloured.astype(np.uint8), dict(zip(ids, itertools.cycle(COLORS)))


class VilaM3(NeuralAdapter):
    name = "vila_m3"
    input_spec = "ras_hu"
    description = "VILA-M3 with the VISTA3D expert's overlay on the middle axial slice."
    card = ModelCard(
        title="VILA-M3 + VISTA3D", weights="MONAI/Llama3-VILA-M3-8B + MONAI vista3d bundle",
        source="Project-MONAI/VLM-Radiology-Agent-Framework@fc8c5a7: m3/demo/gradio_m3.py, "
               "m3/demo/experts/utils.py; NVlabs/VILA@355fda9",
        prompt='MODEL_CARDS (read from the checkout\'s gradio_m3.py) + "<image>This is a CT '
               'image.\\n" + question; on <VISTA3D(group)>: label2rgb overlay (alpha 0.3) and '
               '"The results are <image>. The colors ..." + question',
        decoding="greedy, 1024 new tokens, min_new_tokens 2, the demo's stop string",
        slice_order="one slice: the middle axial slice, radiological display",
        trained_on_ct_rate=None,
        deviations=("slices passed losslessly (the demo round-trips them through JPEG)",),
        status="default loader tested offline on stand-in llava modules and a stand-in bundle "
               "run by MONAI's create_workflow, here and in its own environment (env check)")
    required_config = ("model_path", "vista3d_bundle")
    checkpoint_files = {"model_path": (("config.json",), True),
                        "vista3d_bundle": (("configs",), False),
                        "label_groups": ((), False), "model_cards_file": ((), False)}
    code_folders = ("m3_dir", "code_dir")
    config_examples = {"model_path": "MONAI/Llama3-VILA-M3-8B, or a local folder",
                       "vista3d_bundle": "the unzipped vista3d bundle (vista3d_v0.5.4/vista3d)"}
    generation_defaults = {"max_new_tokens": 1024, "min_new_tokens": 2}
    default_dtype = "float16"  # VILA's load_pretrained_model; the pixels follow model.dtype

    @classmethod
    def image_tokens(cls, spec: Any, checkpoint_config: dict[str, Any]) -> int | None:
        """Two images (the second call's prompt holds the slice and the overlay) of
        ceil(27 / 2)^2 = 196 tokens each; any slice is resized to 384 first, so the spec does
        not change it. The cards and the first reply of that prompt are text (``text_tokens``)."""
        per_side = -(-(SIGLIP_SIDE // SIGLIP_PATCH) // 2)
        return IMAGES_PER_QUESTION * per_side * per_side

    @classmethod
    def text_tokens(cls, config: dict[str, Any]) -> int:
        """The second call's prompt, the longest (the expert's turn follows the first reply):
        the flat allowance (conversation template, the question) plus, counted by the
        checkpoint's tokenizer (``llm/``) or else by bytes (an upper bound): the demo's model
        cards and "This is a CT image.\\n"; unless ``expert: never``, the first reply (its
        new-token budget), the expert turn's text with every label of the label groups named in
        the longest colour, and the question again (``QUESTION_TOKENS``). Cards or label groups
        that cannot be read here (no ``m3_dir``, ``model_cards_file``, ``label_groups``) are not
        counted; the adapter then cannot load either."""
        from ct_spatial_bench.models.adapters.vila_m3_loader import read_model_cards, text_sources
        from ct_spatial_bench.models.memory_plan import (
            QUESTION_TOKENS, TEXT_TOKENS, local_checkpoint, new_token_budget, token_counter)

        folder = local_checkpoint(config.get("model_path"), config.get("revision"))
        count = token_counter([folder / "llm" if folder is not None else None])
        groups_file, cards_file = text_sources(config)
        cards = config.get("model_cards") or (read_model_cards(cards_file) if cards_file else "")
        tokens = TEXT_TOKENS + count(cards + "This is a CT image.\n")
        if config.get("expert", "on_request") == "never":
            return tokens
        import json
        from pathlib import Path

        names = label_names_of(json.loads(Path(groups_file).read_text())) if groups_file else {}
        colour = max(COLORS, key=len)
        described = ", ".join(f"{colour}: {name}" for name in names.values())
        expert_turn = ("The results are . The colors in this image describe " + described
                       + ". Use this result to respond to this prompt:\n")
        return tokens + new_token_budget(cls, config) + count(expert_turn) + QUESTION_TOKENS

    @classmethod
    def memory_sources(cls, config: dict[str, Any]) -> tuple[Any, Any] | None:
        """The VILA checkpoint's ``llm/config.json``; the weights of ``llm/``, ``vision_tower/``
        and ``mm_projector/`` (VILA's save_pretrained layout, all three cast to float16 by its
        builder) and, unless ``expert: never``, the VISTA3D bundle's ``models/model.pt`` where
        it is there (the expert runs on the same GPU while VILA stays loaded; counted at the
        plan's precision, though the bundle runs it in float32). Not counted: VISTA3D's
        sliding-window activations."""
        from pathlib import Path

        from ct_spatial_bench.models.memory_plan import local_checkpoint

        folder = local_checkpoint(config.get("model_path"), config.get("revision"))
        parts = [folder / name for name in ("llm", "vision_tower", "mm_projector")] \
            if folder is not None else []
        if not parts or not (parts[0] / "config.json").is_file() \
                or not all(part.is_dir() for part in parts):
            return None
        expert = Path(str(config.get("vista3d_bundle") or "")) / "models" / "model.pt"
        if config.get("expert", "on_request") != "never" and expert.is_file():
            parts.append(expert)
        return parts[0] / "config.json", parts

    def _load(self, config: dict[str, Any]) -> None:
        parts = resolve_factory(config, load_vila_m3)(config, self)
        self.chat, self.segment = parts["chat"], parts["segment"]
        self.label_groups: dict[str, Any] = parts["label_groups"]
        self.label_names = label_names_of(self.label_groups)
        # The demo always starts with the expert cards: without them the model is never told
        # it may answer <VISTA3D(...)>, and the run would measure plain VILA-M3.
        self.model_cards = config.get("model_cards") or parts.get("model_cards")
        if not self.model_cards:
            raise ModelNotConfigured(
                "vila_m3 needs the demo's model cards (MODEL_CARDS of m3/demo/gradio_m3.py): set "
                "vila_m3.inference.config.m3_dir or model_cards_file")
        self.expert_mode = config.get("expert", "on_request")  # or "always", "never"
        self._modules = [m for m in (parts.get("model"),) if m is not None]
        self._seg: tuple[Any, str | None, Any] = (None, None, None)

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "expert": self.expert_mode}

    def prompt_of(self, question: str) -> str:
        """The first turn (an expert's result, when asked for, follows in a second)."""
        return self.model_cards + "<image>" + "This is a CT image.\n" + question

    def answer_volume(self, image: Any, questions: list[Question]) -> list[Answer]:
        import numpy as np

        answers, prompts = [], []
        for item in questions:
            volume = np.asanyarray(image.dataobj)
            picture = np.repeat(grey_slice(display_slice(volume))[..., None], 3, axis=-1)
            first = self.prompt_of(item.text)
            messages = [{"role": "user", "text": first, "images": [picture]}]
            reply = self.chat(messages, self._generate_kwargs())
            if self.expert_mode == "always":
                group = "everything"
            elif self.expert_mode == "never" or "segmented" in reply:  # demo: nothing to add
                group = None
            else:
                group = expert_request(reply, self.label_groups)
            if group is not None:
                messages += [{"role": "assistant", "text": reply, "images": []},
                             self._expert_turn(image, item, volume, group)]
                reply = self.chat(messages, self._generate_kwargs())
            answers.append(reply.strip())
            prompts.append("\n".join(m["text"] for m in messages if m["role"] == "user"))
        return [Answer(text, prompt) for text, prompt in zip(answers, prompts)]

    def _expert_turn(self, image: Any, item: Question, volume: Any, group: str) -> dict[str, Any]:
        import numpy as np

        if self._seg[0] is not image or self._seg[1] != group:
            prompt = None if group == "everything" else list(self.label_groups[group].values())
            self._seg = (image, group, np.asarray(self.segment(image, prompt)))
        grey = grey_slice(display_slice(volume))
        coloured, colours = overlay(grey, display_slice(self._seg[2]))
        described = ", ".join(f"{colour}: {self.label_names[label]}"
                              for label, colour in colours.items() if label in self.label_names)
        text = ("The results are <image>. The colors in this image describe " + described + ". "
                + "Use this result to respond to this prompt:\n" + item.text)
        return {"role": "user", "text": text, "images": [coloured]}

