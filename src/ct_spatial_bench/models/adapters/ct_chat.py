"""CT-CHAT (LLaVA on CT-CLIP's CTViT features), from the authors' ``llava`` and ``CTViT`` code.

ibrahimethemhamamci/CT-CHAT ``llava/serve/encode_script.py``: HU clipped to -1000..1000, resampled
to 1.5 mm (z) x 0.75 x 0.75 mm, divided by 1000 (-1..1), centre crop/pad (pad -1) to 480x480x240,
given to CTViT as ``(1, 1, 240, 480, 480)`` (slices first) and encoded with
``return_encoded_tokens=True``; ``llava/serve/gradio_web_server.py``: the first user turn is
``"<image>\\n <provided>" + question`` plus ``" <short_answer>"`` for short answers, which
``Conversation.get_prompt`` turns into ``"<image>\\n" + text.strip()`` (no space after the
newline); the ``llama3`` conversation of ``llava/conversation.py`` (its system prompt,
``<|eot_id|>``);
``llava/serve/ctchat_validation_llama.py``: ``model.generate(input_ids, images=features,
image_sizes=[features.size], do_sample=False, max_new_tokens=512, use_cache=True)``.
CT-SpatialVQA's run left out ``<image>``, so that model never saw the CT; here the prompt has it.
"""

from __future__ import annotations

import math
from typing import Any

from ct_spatial_bench.models.base import Answer, Question
from ct_spatial_bench.models.common import NeuralAdapter
from ct_spatial_bench.models.cards import ModelCard
from ct_spatial_bench.models.components import import_from, resolve_factory, split_image_token

SYSTEM_PROMPT = (  # the llama3 conversation's system prompt (llava/conversation.py), verbatim
    "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\n. You are CT-CHAT, an AI "
    "assistant specializing in Chest CT imaging, dedicated to providing accurate and relevant "
    "information exclusively related to Chest CT scans and associated medical topics. You are "
    "equipped to answer questions and offer detailed analyses only when the CT volume/scan/image "
    "is provided, indicated by the <provided> token. If this token is not present and users "
    "inquire about specific findings, pathologies, or request descriptions related to a Chest "
    "CT, respond by requesting the necessary data with the phrase: \u201cPlease provide the CT "
    "volume.\u201d Once the <provided> token is present in the question, you are authorized to "
    "address questions about pathologies, anatomical or clinical findings, diagnostic "
    "descriptions, report generation, comparisons, or any other questions regarding the image. "
    "If it does not appear in the question, even when special tokens <multiple_choice>, "
    "<report_generation>, <long_answer>, and <short_answer> are given, ignore the question and "
    "ask for the CT volume. Always look for the <provided> token, even if there are special "
    "tokens. If there is a <provided> token in any question (including new and previous ones), "
    "never ask for the CT volume again and answer the question. You can ignore the <provided> "
    "token check and answer the question directly if and only if the question is about general "
    "medical knowledge, not about the provided CT volume (such as typical findings on a Chest CT "
    "or management of the patient). For example, \u201cWhat are the typical imaging findings of "
    "acute respiratory distress syndrome (ARDS) on a chest CT?\u201d is a general question not "
    "specific. If user asks a CT specific question after non-spesific question, look for the "
    "<provided> token as well even if the special tokens are given. It is crucial to avoid "
    "discussing topics outside of Chest CT imaging and directly related medical information, "
    "ensuring that all responses are clear, concise, and focused on the provided Chest CT data "
    "for the highest level of accuracy and relevance. If the user greets you with something like "
    "\u201chello,\u201d respond appropriately."
)
USER = "<|start_header_id|>user<|end_header_id|>\n\n"
ASSISTANT = "<|start_header_id|>assistant<|end_header_id|>\n\n"
SEPARATOR = "<|eot_id|>"
ANSWER_TAGS = ("short_answer", "long_answer", "multiple_choice", "report_generation")
# ibrahimethemhamamci/CT-CHAT@33c9b97: the published models train an "attn_pool+mlp2x_gelu"
# projector (LLaMA3.1-V_finetune_lora_ctchat.sh:16), an AttentionalPoolProjector built without
# n_queries (llava/model/multimodal_projector/builder.py:53-55) whose default is 256 queries
# (coca_attentional_pooler.py:21): the CT takes 256 tokens whatever its size.
ATTN_POOL_QUERIES = 256
# CTViT's temporal_patch_size, patch_size x patch_size (load_ct_chat): its return_encoded_tokens
# are (b, t, h, w, d), one per patch (ibrahimethemhamamci/CT-CLIP@a2a155c transformer_maskgit/
# transformer_maskgit/ctvit.py:171, 409-412)
CTVIT_PATCH = (10, 20, 20)


def chat_prompt(question: str, answer_tag: str) -> str:
    """The llama3 conversation of one user turn: the web server's text, rebuilt as
    ``Conversation.get_prompt`` rebuilds an image turn (and as training saw it):
    ``"<image>\\n" + text.replace("<image>", "").strip()``."""
    text = f"<image>\n <provided>{question} <{answer_tag}>"
    user_turn = "<image>\n" + text.replace("<image>", "").strip()
    return SYSTEM_PROMPT + SEPARATOR + USER + user_turn + SEPARATOR + ASSISTANT


def load_ct_chat(config: dict[str, Any], adapter: Any) -> dict[str, Any]:
    """``code_dir``: a CT-CHAT checkout (its ``llava``); ``encoder_path``: CT-CLIP's
    ``clip_visual_encoder.pth``; ``model_path``/``model_base``: the CT-CHAT weights."""
    ctvit = import_from(config.get("ctvit_code_dir"), "transformer_maskgit").CTViT(
        dim=512, codebook_size=8192, image_size=480, patch_size=20, temporal_patch_size=10,
        spatial_depth=4, temporal_depth=4, dim_head=32, heads=8)
    ctvit.load(config["encoder_path"])
    builder = import_from(config.get("code_dir"), "llava.model.builder")
    mm_utils = import_from(config.get("code_dir"), "llava.mm_utils")
    path = config["model_path"]
    tokenizer, model, _, _ = builder.load_pretrained_model(
        path, config.get("model_base"), mm_utils.get_model_name_from_path(path),
        device=adapter.device)
    return {"encoder": ctvit, "model": model, "tokenizer": tokenizer}


class CTChat(NeuralAdapter):
    name = "ct_chat"
    input_spec = "ct_chat"
    description = "CT-CHAT: CTViT tokens of a 240x480x480 volume at 1.5/0.75/0.75 mm."
    card = ModelCard(
        title="CT-CHAT", weights="CT-CHAT (Llama 3.1 8B) + CT-CLIP clip_visual_encoder.pth",
        source="ibrahimethemhamamci/CT-CHAT@33c9b97: llava/serve/encode_script.py, "
               "llava/conversation.py, llava/serve/gradio_web_server.py, "
               "llava/serve/ctchat_validation_llama.py",
        prompt='llama3 conversation, its system prompt; user turn "<image>\\n<provided>" + '
               'question + " <short_answer>" (get_prompt strips the text after "<image>\\n")',
        decoding="greedy, 512 new tokens, use_cache",
        slice_order="inferior first (CT-RATE's stored order taken as DICOM-like)",
        trained_on_ct_rate=True,
        deviations=("trained on CT-RATE, the source of CT-SpatialVQA's volumes and reports",
                    "CT-SpatialVQA's own run left out <image>; here the prompt has it"),
        status="tested offline on stand-ins of CTViT and LLaVA, float32 and float16; its "
               "default loader on stand-in code folders in its own environment (env check)")
    required_config = ("model_path", "encoder_path")
    checkpoint_files = {"model_path": (("config.json",), True),
                        "model_base": (("config.json",), True),
                        "encoder_path": ((), False)}  # CT-CLIP's clip_visual_encoder.pth
    code_folders = ("code_dir", "ctvit_code_dir")
    config_examples = {"model_path": "a CT-CHAT checkpoint folder (Llama 3.1 8B)",
                       "encoder_path": "CT-CLIP's clip_visual_encoder.pth"}
    generation_defaults = {"max_new_tokens": 512, "use_cache": True}
    default_dtype = "float16"  # llava.model.builder.load_pretrained_model's torch_dtype

    @classmethod
    def image_tokens(cls, spec: Any, checkpoint_config: dict[str, Any]) -> int | None:
        """The attention pooler's 256 queries; a projector without pooling (linear, mlpNx_gelu)
        keeps every CTViT token, ``encode_images`` flattening its (t, h, w) grid
        (llava/model/llava_arch.py:145-146): slices / 10 x (side / 20)^2."""
        if str(checkpoint_config.get("mm_projector_type", "linear")).startswith("attn_pool"):
            return ATTN_POOL_QUERIES
        shape = getattr(spec, "shape", None)
        if not shape or len(shape) != 3 or not all(shape):
            return None
        return math.prod(side // patch for side, patch in zip(shape, CTVIT_PATCH))

    @classmethod
    def memory_sources(cls, config: dict[str, Any]) -> tuple[Any, Any] | None:
        """``model_path``'s config.json (LLaVA's config: the Llama sizes and the projector type);
        the weights of ``model_base`` (the published CT-CHAT is LoRA: the builder loads the base
        and merges the adapter into it, adding no parameters), else of ``model_path``, and
        CTViT's ``encoder_path``. Not counted: the projector in ``non_lora_trainables.bin``
        (~0.02B; that file may also repeat base weights, so it is not summed). CTViT runs in
        float32 (``_load`` moves it without a dtype) but is counted at the plan's precision."""
        from pathlib import Path

        from ct_spatial_bench.models.memory_plan import local_checkpoint

        folder = local_checkpoint(config.get("model_path"), config.get("revision"))
        base = local_checkpoint(config["model_base"]) if config.get("model_base") else folder
        encoder = Path(str(config.get("encoder_path") or ""))
        if folder is None or base is None or not (folder / "config.json").is_file() \
                or not encoder.is_file():
            return None
        return folder / "config.json", [base, encoder]

    def _load(self, config: dict[str, Any]) -> None:
        parts = resolve_factory(config, load_ct_chat)(config, self)
        self.encoder = parts["encoder"].to(self.device).eval()
        # the LLM in the dtype its image features get (the builder loads float16 by default)
        self.model = parts["model"].to(self.device, self._dtype()).eval()
        self.tokenizer = parts["tokenizer"]
        self._modules = [self.model, self.encoder]
        self.answer_tag = config.get("answer_tag", "short_answer")
        if self.answer_tag not in ANSWER_TAGS:
            raise ValueError(f"answer_tag must be one of {ANSWER_TAGS}")
        self._features: tuple[Any, Any] = (None, None)

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "answer_tag": self.answer_tag}

    def prompt_of(self, question: str) -> str:
        return chat_prompt(question, self.answer_tag)

    @classmethod
    def text_tokens(cls, config: dict[str, Any]) -> int:
        """The flat allowance (the longest question, rounded up) plus everything else of the
        prompt but the image: the llama3 conversation's system prompt and headers and the user
        turn's tags, counted by the checkpoint's tokenizer (model_path, else model_base), or
        where neither holds one by their bytes (an upper bound)."""
        from ct_spatial_bench.models.memory_plan import TEXT_TOKENS, local_checkpoint, token_counter

        count = token_counter([local_checkpoint(config.get(key))
                               for key in ("model_path", "model_base")])
        text = chat_prompt("", config.get("answer_tag", "short_answer")).replace("<image>", "")
        return TEXT_TOKENS + count(text)

    def until_separator(self, ids: list[int]) -> str:
        """The answer up to the first ``<|eot_id|>``, cut on token ids: decoding with
        ``skip_special_tokens`` drops the separator itself, so cutting the text afterwards
        never fired and a turn generated past it stayed in the answer."""
        separator = self.tokenizer.get_vocab().get(SEPARATOR)
        if separator is not None and separator in ids:
            ids = ids[:ids.index(separator)]
        return self.tokenizer.decode(ids, skip_special_tokens=True).strip()

    def features(self, image: Any) -> Any:
        """CTViT tokens of the ``(240, 480, 480)`` -1..1 volume, once per volume."""
        import numpy as np
        import torch

        if self._features[0] is not image:
            volume = torch.from_numpy(np.asarray(image, dtype=np.float32))[None, None]
            with torch.inference_mode():
                tokens = self.encoder(volume.to(self.device), return_encoded_tokens=True)
            self._features = (image, tokens)
        return self._features[1]

    def answer_volume(self, image: Any, questions: list[Question]) -> list[Answer]:
        import torch

        from ct_spatial_bench.models.batch_decode import hit_token_limit

        answers = []
        for item in questions:
            prompt = self.prompt_of(item.text)
            ids = torch.tensor([split_image_token(prompt, self.tokenizer)], device=self.device)
            features = self.features(image).to(self.device, self._dtype())
            with torch.inference_mode():
                output = self.model.generate(ids, images=features, image_sizes=[features.numel()],
                                             **self._generate_kwargs())
            ids = output[0].tolist()
            # cut by the budget: reached without an end token, and no <|eot_id|> said it ended
            cut = hit_token_limit(self.model, self._generate_kwargs(), output[0])
            separator = self.tokenizer.get_vocab().get(SEPARATOR)
            answers.append(Answer(self.until_separator(ids), prompt,
                                  hit_token_limit=cut and separator not in ids))
        return answers
