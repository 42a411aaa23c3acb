"""Any transformers image-text-to-text model on CT slices (or one montage of them).

LLaVA(-Med), Qwen2-VL/Qwen2.5-VL, Gemma 3 and the other 2D models of MedVLMBench load through
``AutoProcessor`` + ``AutoModelForImageTextToText``. The input is ``(n, rows, columns, 3)`` uint8
slices in radiological display (rows anterior to posterior, columns patient right to left).
One chat message holds the instruction, the slices (each optionally followed by a label such as
``SLICE 3``) and the question last; decoding is greedy unless configured.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ct_spatial_bench.models.base import Answer, Question
from ct_spatial_bench.models.cards import ModelCard
from ct_spatial_bench.models.common import NeuralAdapter
from ct_spatial_bench.models.slice_chat import SliceChat

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


class HFVisionLanguageModel(SliceChat, NeuralAdapter):
    name = "hf_vlm"
    input_spec = "vlm_slices"
    description = "Any transformers image-text-to-text model on slices or a montage."
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
    batches_questions = True
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

    def answer_volume(self, image: Any, questions: list[Question]) -> Iterator[Answer]:
        """All questions on one volume, yielded as each is answered. By default the slices go
        through the image processor once, the shared prompt prefix (instruction and slices, the
        question last) is prefilled once and the questions are decoded together, at most
        ``config.max_batch`` at a time (``batch_decode``); ``config.batch_questions: false``
        asks them one at a time as before, ``share_prefix: false`` also prefills each whole."""
        from ct_spatial_bench.models.batch_decode import generate_batched, hit_token_limit
        from ct_spatial_bench.models.prefix_cache import generate_per_volume
        from ct_spatial_bench.models.processor_cache import images_once

        images = self.images_of(image)  # a volume's questions share its slices
        chats = [self.messages(item.text, images) for item in questions]
        image_token = getattr(self.processor, "image_token_id", None)  # the library's, not ours
        share = bool(self._config.get("share_prefix", True)) and (image_token is not None
                                                                  or not images)
        image_tokens = {image_token} if image_token is not None else set()
        if share and self._config.get("batch_questions", True):
            with images_once(self.processor):
                encoded = [self.encode(messages) for messages in chats]
            generated = generate_batched(self.model, encoded, self._generate_kwargs(),
                                         image_tokens, self._config.get("max_batch"))
        else:
            encoded = [self.encode(messages) for messages in chats]
            generated = enumerate(generate_per_volume(self.model, encoded,
                                                      self._generate_kwargs(), image_tokens,
                                                      share))
        for index, g in generated:
            yield Answer(
                self.processor.batch_decode(g.new_tokens[None], skip_special_tokens=True)[0]
                .strip(),
                self.processor.apply_chat_template(chats[index], add_generation_prompt=True,
                                                   tokenize=False),
                g.prompt_tokens, g.prefill_tokens, int(g.new_tokens.shape[0]),
                qa_id=questions[index].qa_id,
                hit_token_limit=hit_token_limit(self.model, self._generate_kwargs(),
                                                g.new_tokens))

    def encode(self, messages: list[dict[str, Any]]) -> dict[str, Any]:
        """The processor's tensors for one chat, on the model's device and dtype."""
        inputs = self.processor.apply_chat_template(
            messages, add_generation_prompt=True, tokenize=True, return_dict=True,
            return_tensors="pt")
        return {k: (v.to(self.device, self._dtype()) if v.is_floating_point()
                    else v.to(self.device)) for k, v in inputs.items()}
