"""Hulu-Med (7B on Qwen2.5, 14B on Qwen3, 32B on Qwen2.5), as its inference notebook calls it.

ZJUI-AI4H/Hulu-Med ``Inference.ipynb`` (3D cell) and ``src/hulumed``: ``load_pretrained_model(path,
None, get_model_name_from_path(path), device_map=...)``, ``HulumedProcessor(image_processor,
tokenizer)``, ``model.config.use_token_compression = False``; the CT is read by
``mm_utils.load_images(nii, nii_num_slices=160)`` -> ``slice_nifti_to_images``: axial slices
(axis 2) at ``linspace(0, n - 1, 160, dtype=int)``, each min-maxed on its own to 0..255, cast to
uint8 and made RGB; one user turn ``[{"type": "video", "num_frames": n}, {"type": "text",
"text": ...}]`` (the notebook's 3D prompt opens with "This is a medical 3D scenario."),
``processor(images=[slices], text=conversation, merge_size=2, return_tensors="pt")``,
``pixel_values`` in bfloat16, ``model.generate(**inputs, modals=["video"], use_cache=True,
pad_token_id=eos)``. The notebook samples (T 0.6, 8192 tokens); we decode greedily.
"""

from __future__ import annotations

from typing import Any

from ct_spatial_bench.models.base import Answer, Question
from ct_spatial_bench.models.common import NeuralAdapter
from ct_spatial_bench.models.cards import ModelCard
from ct_spatial_bench.models.components import import_from, resolve_factory

SCENARIO = "This is a medical 3D scenario. "  # how the notebook opens a 3D prompt
MERGE_SIZE = 2  # the notebook's merge_size for video (and 3D) input


QWEN2_PACKAGE, QWEN3_PACKAGE = "hulumed", "hulumed_qwen3"


def code_package(checkpoint_config: dict[str, Any]) -> str:
    """The authors' package for a checkpoint: ``hulumed_qwen3`` (Qwen3 classes: QK-norm, no qkv
    bias; ``Inference_qwen3.ipynb``, the 14B) or ``hulumed`` (Qwen2 classes; 7B, 32B).

    Both packages name their config ``hulumed_qwen2``, so the type alone cannot tell them apart;
    a Qwen3 config also writes ``attention_bias`` (and the hub's later exports say ``qwen3`` in
    ``model_type``), which a Qwen2 config never does."""
    kinds = " ".join([str(checkpoint_config.get("model_type", "")),
                      *(checkpoint_config.get("architectures") or [])]).lower()
    return QWEN3_PACKAGE if "qwen3" in kinds or "attention_bias" in checkpoint_config \
        else QWEN2_PACKAGE


def load_hulu_med(config: dict[str, Any], adapter: Any) -> dict[str, Any]:
    """``code_dir``: the repository's ``src`` (its ``hulumed`` and ``hulumed_qwen3`` packages);
    ``model_path``: the original (non-HF) checkpoint the notebooks load. The package is picked
    from the checkpoint's config (``code_package`` overrides it); every weight name must match."""
    import json

    from ct_spatial_bench.models.strict_loading import checkpoint_folder, check_weight_names

    path = str(config["model_path"])
    folder = checkpoint_folder(path, config.get("revision"))
    package = config.get("code_package") or code_package(
        json.loads((folder / "config.json").read_text()))
    model_module = import_from(config.get("code_dir"), f"{package}.model")
    mm_utils = import_from(config.get("code_dir"), f"{package}.mm_utils")
    processor_module = import_from(config.get("code_dir"), f"{package}.model.processor")
    tokenizer, model, image_processor, _ = model_module.load_pretrained_model(
        path, None, mm_utils.get_model_name_from_path(path), device_map=adapter.device,
        # the authors' default is flash_attention_2, which fails where flash-attn is absent
        attn_implementation=config.get("attn_implementation") or "sdpa")
    check_weight_names(f"hulu_med ({package})", model, folder)
    model.config.use_token_compression = False  # as the notebook sets it
    return {"model": model, "tokenizer": tokenizer, "package": package,
            "processor": processor_module.HulumedProcessor(image_processor, tokenizer)}


def slice_images(slices: Any) -> list[Any]:
    """``slice_nifti_to_images``' pictures: each slice min-maxed to 0..255 on its own (left as is
    when flat), truncated to uint8, RGB."""
    import numpy as np
    from PIL import Image

    pictures = []
    for hu in np.asarray(slices, dtype=np.float64):
        if hu.max() > hu.min():
            hu = (hu - hu.min()) / (hu.max() - hu.min()) * 255.0
        pictures.append(Image.fromarray(hu.astype(np.uint8)).convert("RGB"))
    return pictures


class HuluMed(NeuralAdapter):
    name = "hulu_med"
    input_spec = "hulu_med"
    description = "Hulu-Med (7B/14B/32B): 160 axial slices, each min-maxed, as video frames."
    card = ModelCard(
        title="Hulu-Med", weights="ZJU-AI4H/Hulu-Med-7B, -14B, -32B",
        source="ZJUI-AI4H/Hulu-Med@a0060ad: Inference.ipynb, Inference_qwen3.ipynb, "
               "src/hulumed/mm_utils.py, src/hulumed/model/processor.py, "
               "src/hulumed_qwen3/model/__init__.py",
        prompt='one video turn of 160 slices + "This is a medical 3D scenario. " + question; '
               "merge_size 2, modals video",
        decoding="greedy, 512 new tokens",
        slice_order="inferior first (axis 2 of a RAS/LPS-stored file, as its loader reads it)",
        trained_on_ct_rate=None,
        deviations=("package picked from the checkpoint's config: hulumed_qwen3 (Qwen3: 14B) "
                    "when it has attention_bias or says qwen3, else hulumed (Qwen2: 7B, 32B); "
                    "every weight name checked against the checkpoint's files",
                    "attention sdpa unless attn_implementation is set (the authors' loader "
                    "defaults to flash_attention_2)",
                    "the notebook samples (temperature 0.6, 8192 tokens); we decode greedily",
                    "slices reoriented to display from the header; its loader slices the "
                    "stored array as it is"),
        status="tested offline on stand-ins with its processor's and generate's signatures "
               "(transformers has no Hulu-Med class), float32 and bfloat16")
    required_config = ("model_path", "code_dir")
    code_folders = ("code_dir",)
    config_examples = {"model_path": "ZJU-AI4H/Hulu-Med-7B (original weights), or a local folder",
                       "code_dir": "a ZJUI-AI4H/Hulu-Med checkout's src folder"}
    generation_defaults = {"max_new_tokens": 512, "use_cache": True}
    default_dtype = "bfloat16"  # the notebook casts pixel_values to bfloat16

    def _load(self, config: dict[str, Any]) -> None:
        parts = resolve_factory(config, load_hulu_med)(config, self)
        self.model = parts["model"].to(self.device, self._dtype()).eval()
        self.tokenizer, self.processor = parts["tokenizer"], parts["processor"]
        self.package = parts.get("package")
        self._modules = [self.model]
        self._slices: tuple[Any, list[Any]] = (None, [])

    @classmethod
    def image_tokens(cls, spec: Any, checkpoint_config: dict[str, Any]) -> int | None:
        """Frames x merged patches: its encoder's 14-pixel patches merged 2 x 2 (merge_size),
        on slices of the spec's side (CT-RATE's 512 where it keeps them)."""
        from ct_spatial_bench.models.memory_plan import merged_patch_tokens, slice_side

        return (getattr(spec, "slices", None) or 1) * merged_patch_tokens(slice_side(spec), 14,
                                                                          MERGE_SIZE)

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "code_package": self.package}

    def slices_of(self, image: Any) -> list[Any]:
        """The volume's pictures, made once per volume."""
        if self._slices[0] is not image:
            self._slices = (image, slice_images(image))
        return self._slices[1]

    def conversation_of(self, question: str, n_slices: int) -> list[dict[str, Any]]:
        return [{"role": "user", "content": [{"type": "video", "num_frames": n_slices},
                                             {"type": "text", "text": SCENARIO + question}]}]

    def inputs_of(self, pictures: list[Any], conversation: list[dict[str, Any]]) -> dict:
        import torch

        inputs = self.processor(images=[pictures], text=conversation, merge_size=MERGE_SIZE,
                                return_tensors="pt")
        moved = {k: v.to(self.device) if torch.is_tensor(v) else v for k, v in inputs.items()}
        moved["pixel_values"] = moved["pixel_values"].to(self._dtype())
        return moved

    def chat_prompt_of(self, conversation: list[dict[str, Any]]) -> str:
        return self.tokenizer.apply_chat_template(conversation, tokenize=False,
                                                  add_generation_prompt=True)

    def prompt_template(self) -> Any:
        from ct_spatial_bench.models.base import QUESTION_SLOT

        return self.conversation_of(QUESTION_SLOT, n_slices=0)

    def answer_volume(self, image: Any, questions: list[Question]) -> list[Answer]:
        import torch

        from ct_spatial_bench.models.batch_decode import hit_token_limit

        answers = []
        for item in questions:
            pictures = self.slices_of(image)
            conversation = self.conversation_of(item.text, len(pictures))
            with torch.inference_mode():
                output = self.model.generate(
                    **self.inputs_of(pictures, conversation), modals=["video"],
                    pad_token_id=self.tokenizer.eos_token_id, **self._generate_kwargs())
            # the new tokens only (its generate decodes from inputs_embeds)
            answers.append(Answer(
                self.tokenizer.batch_decode(output, skip_special_tokens=True)[0].strip(),
                self.chat_prompt_of(conversation),
                hit_token_limit=hit_token_limit(self.model, self._generate_kwargs(), output[0])))
        return answers
