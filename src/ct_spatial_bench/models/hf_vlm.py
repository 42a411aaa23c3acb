"""Any transformers image-text-to-text model on CT slices (or one montage of them).

LLaVA(-Med), Qwen2-VL/Qwen2.5-VL, Gemma 3 and the other 2D models of MedVLMBench load through
``AutoProcessor`` + ``AutoModelForImageTextToText``. The input is ``(n, rows, columns, 3)`` uint8
slices in radiological display (rows anterior to posterior, columns patient right to left).
One chat message holds the instruction, the slices (each optionally followed by a label such as
``SLICE 3``) and the question last; decoding is greedy unless configured.
"""

from __future__ import annotations

from typing import Any

from ct_spatial_bench.models.base import Answer, Question
from ct_spatial_bench.models.cards import ModelCard
from ct_spatial_bench.models.common import NeuralAdapter

DEFAULT_INSTRUCTION = (
    "You are a radiologist reading axial slices of a chest CT. The slices are shown in order, "
    "in radiological convention: the patient's right is on the left of each image and anterior "
    "is at the top."
)

# The slice-by-slice prompt of Google's MedGemma CT notebook, which CT-SpatialVQA also used for
# Lingshu: the instruction, each slice followed by its label, then the query.
SLICE_BLOCK_PROMPT: dict[str, Any] = {
    "instruction": (
        "You are an instructor teaching medical students. You are analyzing a contiguous "
        "block of CT slices. Please review the slices provided below carefully."
    ),
    "slice_label": "SLICE {i}",
    "layout": "slices",
}
SLICE_LABEL_TOKENS = 6  # "SLICE 12" and the image's start/end markers, rounded up
QUERY_LEAD = ("\n\nBased on the visual evidence in the slices provided above, "
              "answer the question below")


class HFVisionLanguageModel(NeuralAdapter):
    name = "hf_vlm"
    input_spec = "vlm_slices"
    description = "Any transformers image-text-to-text model on slices or a montage."
    reads_slices = True
    card = ModelCard(
        title="any transformers image-text-to-text VLM", weights="any",
        source="- (AutoProcessor + AutoModelForImageTextToText)",
        prompt="instruction stating the display convention, the slices, the question; the "
               "checkpoint's own chat template",
        decoding="greedy, 256 new tokens", slice_order="superior first (top to bottom)",
        trained_on_ct_rate=None, status="end to end offline on a tiny random LLaVA")
    config_examples = {"model_path": "Qwen/Qwen2-VL-7B-Instruct, or a local folder"}
    generation_defaults = {"max_new_tokens": 256}
    quantized_at_load = True
    # prompt defaults; config["prompt"] overrides any of them
    prompt_defaults: dict[str, Any] = {
        "instruction": DEFAULT_INSTRUCTION,
        "slice_label": None,  # e.g. "SLICE {i}" after each image
        "question": "{question}",
        "layout": "slices",  # or "montage": one tiled image
    }
    # AutoProcessor.from_pretrained keywords (image limits); config["processor"] overrides them
    processor_defaults: dict[str, Any] = {}

    @classmethod
    def image_tokens(cls, spec: Any, checkpoint_config: dict[str, Any]) -> int | None:
        """Slices x tokens per slice: Gemma 3's fixed ``mm_tokens_per_image``, or a Qwen-VL
        vision config's patches merged ``spatial_merge_size`` square, plus a label per slice;
        None for other families (not derived here)."""
        from ct_spatial_bench.models.memory_plan import merged_patch_tokens, slice_side

        slices = getattr(spec, "slices", None) or 1
        vision = checkpoint_config.get("vision_config") or {}
        if checkpoint_config.get("mm_tokens_per_image"):
            per_image = int(checkpoint_config["mm_tokens_per_image"])
        elif vision.get("spatial_merge_size"):
            per_image = merged_patch_tokens(slice_side(spec), int(vision.get("patch_size", 14)),
                                            int(vision["spatial_merge_size"]))
        else:
            return None
        return slices * (per_image + SLICE_LABEL_TOKENS)

    def _load(self, config: dict[str, Any]) -> None:
        from transformers import AutoModelForImageTextToText, AutoProcessor

        common = {"revision": config.get("revision"),
                  "trust_remote_code": bool(config.get("trust_remote_code", False))}
        self.processor_settings = {**self.processor_defaults, **(config.get("processor") or {})}
        self.processor = AutoProcessor.from_pretrained(config["model_path"], **common,
                                                       **self.processor_settings)
        self.model = self._from_pretrained(AutoModelForImageTextToText, config["model_path"],
                                           **common)
        self._modules = [self.model]
        self.prompt = {**self.prompt_defaults, **(config.get("prompt") or {})}

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "prompt_template": dict(self.prompt)}

    def images_of(self, image: Any) -> list[Any]:
        """PIL RGB images from the preprocessed slices (none when the image is withheld)."""
        if image is None:
            return []
        import numpy as np
        from PIL import Image

        from ct_spatial_bench.imaging.slices import montage

        slices = np.asarray(image)
        if slices.ndim == 3:  # grey slices
            slices = np.repeat(slices[..., None], 3, axis=-1)
        if self.prompt["layout"] == "montage":
            slices = montage(slices)[None]
        return [Image.fromarray(np.ascontiguousarray(s), mode="RGB") for s in slices]

    def messages(self, question: str, images: list[Any]) -> list[dict[str, Any]]:
        content: list[dict[str, Any]] = []
        if self.prompt["instruction"]:
            content.append({"type": "text", "text": self.prompt["instruction"]})
        for index, picture in enumerate(images, start=1):
            content.append({"type": "image", "image": picture})
            if self.prompt["slice_label"]:
                content.append({"type": "text", "text": self.prompt["slice_label"].format(i=index)})
        content.append({"type": "text", "text": self.prompt["question"].format(question=question)})
        return [{"role": "user", "content": content}]

    def answer_volume(self, image: Any, questions: list[Question]) -> list[Answer]:
        """All questions on one volume, their shared prompt prefix (instruction and slices, the
        question last) prefilled once unless ``config.share_prefix`` is false."""
        from ct_spatial_bench.models.prefix_cache import generate_per_volume

        images = self.images_of(image)  # a volume's questions share its slices
        chats = [self.messages(item.text, images) for item in questions]
        encoded = [self.encode(messages) for messages in chats]
        image_token = getattr(self.processor, "image_token_id", None)  # the library's, not ours
        share = bool(self._config.get("share_prefix", True)) and (image_token is not None
                                                                  or not images)
        generated = generate_per_volume(self.model, encoded, self._generate_kwargs(),
                                        {image_token} if image_token is not None else set(),
                                        share)
        return [
            Answer(self.processor.batch_decode(g.new_tokens[None], skip_special_tokens=True)[0]
                   .strip(),
                   self.processor.apply_chat_template(messages, add_generation_prompt=True,
                                                      tokenize=False),
                   g.prompt_tokens, g.prefill_tokens, int(g.new_tokens.shape[0]))
            for messages, g in zip(chats, generated)
        ]

    def encode(self, messages: list[dict[str, Any]]) -> dict[str, Any]:
        """The processor's tensors for one chat, on the model's device and dtype."""
        inputs = self.processor.apply_chat_template(
            messages, add_generation_prompt=True, tokenize=True, return_dict=True,
            return_tensors="pt")
        return {k: (v.to(self.device, self._dtype()) if v.is_floating_point()
                    else v.to(self.device)) for k, v in inputs.items()}
