"""M3D-LaMed (Phi-3-4B and Llama-2-7B), loaded with the authors' remote code.

BAAI-DCAI/M3D ``README.md`` (Quickstart) and ``Bench/eval/eval_vqa.py``: the image is a
1x32x256x256 (C, D, H, W) volume in 0..1 (for raw CT, ``Data/process/m3d_refseg_data_prepare.py``:
percentiles 0.5..99.5 to 0..1, foreground crop, resize; the ``m3d`` spec in conf), given as
``(1, 1, 32, 256, 256)``; the prompt is
``"<im_patch>" * proj_out_num`` (256), a space, then the question (``Bench/dataset/
multi_dataset.py``); ``model.generate(images, input_ids, ...)``, greedy (``do_sample=False``) in
the authors' VQA evaluation. The volume reaches the model in radiological display, as M3D's
training slices (Radiopaedia images) were: rows anterior to posterior, columns patient right
to left.
"""

from __future__ import annotations

from typing import Any

from ct_spatial_bench.models.base import Answer, Question
from ct_spatial_bench.models.cards import FLIP_AUGMENTATION, ModelCard
from ct_spatial_bench.models.common import NeuralAdapter


class M3DLaMed(NeuralAdapter):
    name = "m3d"
    input_spec = "m3d"
    description = "M3D-LaMed (Phi-3-4B / Llama-2-7B): 1x32x256x256 min-max volume."
    card = ModelCard(
        title="M3D-LaMed", weights="GoodBaiBai88/M3D-LaMed-Phi-3-4B, -Llama-2-7B",
        source="BAAI-DCAI/M3D@63e7200: README Quickstart, Bench/eval/eval_vqa.py, "
               "Bench/dataset/multi_dataset.py, Data/process/m3d_refseg_data_prepare.py",
        prompt='"<im_patch>" * proj_out_num (256) + " " + question; generate(images, inputs)',
        decoding="greedy, 256 new tokens (their VQA eval is greedy)",
        slice_order="inferior first (training slices: Radiopaedia stacks in file order, assumed)",
        trained_on_ct_rate=False,
        laterality_caveat=FLIP_AUGMENTATION.format(files="Bench/dataset/multi_dataset.py"),
        deviations=(
            "bfloat16 on a GPU as its README Quickstart; its eval_vqa.py loads float32",
            "intensity percentile(0.5, 99.5) of raw HU, as its RefSeg preparation "
            "(m3d_refseg_data_prepare.py, which also transposes in-plane); its M3D-Seg preparation "
            "clips, z-scores, then min-maxes, and its M3D-Cap volumes were windowed JPEG stacks "
            "min-maxed: no single raw-CT rule",
        ),
        status="tested offline: its own loading code on a tiny trust_remote_code folder "
               "(Llama base), float32 and bfloat16")
    config_examples = {"model_path": "GoodBaiBai88/M3D-LaMed-Phi-3-4B (or -Llama-2-7B), "
                                     "or a local folder"}
    generation_defaults = {"max_new_tokens": 256}
    quantized_at_load = True
    image_token = "<im_patch>"
    default_proj_out_num = 256

    def _load(self, config: dict[str, Any]) -> None:
        from transformers import AutoModelForCausalLM, AutoTokenizer

        common = {"revision": config.get("revision"), "trust_remote_code": True}
        self.tokenizer = AutoTokenizer.from_pretrained(
            config["model_path"], model_max_length=int(config.get("model_max_length", 512)),
            padding_side="right", use_fast=False, **common)
        self.model = self._from_pretrained(AutoModelForCausalLM, config["model_path"], **common)
        self._modules = [self.model]

    @classmethod
    def image_tokens(cls, spec: Any, checkpoint_config: dict[str, Any]) -> int | None:
        """The projector's ``proj_out_num`` tokens (256 where the config has none)."""
        return int(checkpoint_config.get("proj_out_num") or cls.default_proj_out_num)

    def proj_out_num(self) -> int:
        """Image tokens the projector emits: the model config's ``proj_out_num`` (256)."""
        for owner in (self.model, getattr(self.model, "get_model", lambda: None)()):
            value = getattr(getattr(owner, "config", None), "proj_out_num", None)
            if value:
                return int(value)
        return self.default_proj_out_num

    def prompt_of(self, question: str) -> str:
        return self.image_token * self.proj_out_num() + " " + question

    def image_tensor(self, image: Any) -> Any:
        """``(1, 1, D, H, W)`` from the preprocessed ``(D, H, W)`` 0..1 volume."""
        import numpy as np
        import torch

        volume = np.asarray(image, dtype=np.float32)
        return torch.from_numpy(volume)[None, None].to(self.device, self._dtype())

    def answer_volume(self, image: Any, questions: list[Question]) -> list[Answer]:
        import torch

        from ct_spatial_bench.models.batch_decode import hit_token_limit

        answers = []
        for item in questions:
            if image is None:
                raise ValueError(f"{self.name} needs an image (blind controls zero it instead)")
            prompt = self.prompt_of(item.text)
            input_ids = self.tokenizer(prompt, return_tensors="pt")["input_ids"].to(self.device)
            with torch.inference_mode():
                output = self.model.generate(self.image_tensor(image), input_ids,
                                             **self._generate_kwargs())
            if isinstance(output, tuple):  # generate(..., seg_enable=True) also returns masks
                output = output[0]
            answers.append(Answer(  # the new tokens only: generate(inputs_embeds=...) inside
                self.tokenizer.batch_decode(output, skip_special_tokens=True)[0].strip(), prompt,
                hit_token_limit=hit_token_limit(self.model, self._generate_kwargs(), output[0])))
        return answers
