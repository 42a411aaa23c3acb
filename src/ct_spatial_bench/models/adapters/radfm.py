"""RadFM (chaoyi-wu/RadFM), from the authors' code folder and checkpoint.

``Quick_demo/test.py``: a LLaMA tokenizer with the special tokens ``<image>``, ``</image>`` and
``<image0>`` .. ``<image{32*100-1}>`` (32 per image, 100 images), pad/bos/eos ids 0/1/2; the image
goes before the question as ``<image><image0>..<image31></image>``; ``vision_x`` is
``(B, S, 3, H, W, D)`` = ``(1, 1, 3, 512, 512, D)``; ``model.generate(lang_x, vision_x)``
(greedy, 200 new tokens, fixed in ``Model/RadFM/multimodality_model.py``). 3D inputs
(``src/Dataset/multi_dataset_test.py``, ``dataset/radiopaedia.py``): min-max to 0..1, the grey
volume repeated to 3 channels, depth resized to the value of 4, 8, ..., 64 closest to the
volume's depth, so at most 64 and a multiple of 4; slices (H, W) in radiological display.
"""

from __future__ import annotations

import os
from typing import Any

from ct_spatial_bench.models.base import Answer, Question
from ct_spatial_bench.models.common import NeuralAdapter
from ct_spatial_bench.models.cards import ModelCard
from ct_spatial_bench.models.components import import_from, resolve_factory

TOKENS_PER_IMAGE = 32
MAX_IMAGES = 100


def image_placeholder(index: int = 0) -> str:
    first = index * TOKENS_PER_IMAGE
    return ("<image>" + "".join(f"<image{first + j}>" for j in range(TOKENS_PER_IMAGE))
            + "</image>")


def radfm_tokenizer(language_files: str) -> Any:
    """The authors' tokenizer set-up: LLaMA plus every image marker as a special token."""
    from transformers import LlamaTokenizer

    tokenizer = LlamaTokenizer.from_pretrained(language_files)
    markers = ["<image>", "</image>"] + [f"<image{i}>"
                                         for i in range(TOKENS_PER_IMAGE * MAX_IMAGES)]
    tokenizer.add_special_tokens({"additional_special_tokens": markers})
    tokenizer.pad_token_id, tokenizer.bos_token_id, tokenizer.eos_token_id = 0, 1, 2
    return tokenizer


RADFM_EOS = 2  # </s>: Quick_demo/test.py sets the tokenizer's eos_token_id to 2
# computed at construction; saved by the transformers RadFM was exported with (4.28), by 4.31 as
# well, not by later versions: neither its presence nor its absence is a mismatch
DERIVED = ("rotary_emb.inv_freq",)


def radfm_model(code_dir: str | None, language_files: str, weights: str) -> Any:
    """``MultiLLaMAForCausalLM`` with its language model built from ``Language_files``' config
    (the authors' ``from_pretrained`` of that folder fails: it holds no weights), then every
    weight from ``pytorch_model.bin``, memory-mapped, so host RAM holds about one copy."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    from ct_spatial_bench.models.strict_loading import check_names

    module = import_from(code_dir, "Model.RadFM.multimodality_model")

    class FromConfig:  # what the authors' __init__ calls, built from the config only
        @staticmethod
        def from_pretrained(path: str, **_: Any) -> Any:
            return LlamaForCausalLM(LlamaConfig.from_pretrained(path))

    original, module.LlamaForCausalLM = module.LlamaForCausalLM, FromConfig
    try:
        model = module.MultiLLaMAForCausalLM(lang_model_path=language_files)
    finally:
        module.LlamaForCausalLM = original
    state = torch.load(weights, map_location="cpu", mmap=True, weights_only=True)
    check_names("radfm", weights, model, set(state), derived=DERIVED)
    own = model.state_dict()
    model.load_state_dict({k: v for k, v in state.items() if k in own}, strict=False)
    # its config says eos_token_id 1 (<s> for this tokenizer), so generation never stopped
    # before 200 tokens; the tokenizer's </s> (2) ends an answer as in LLaMA's training
    model.lang_model.generation_config.eos_token_id = RADFM_EOS
    return model


def load_radfm(config: dict[str, Any], adapter: Any) -> dict[str, Any]:
    """``config``: ``code_dir`` (the repository's ``Quick_demo``), ``language_files`` (its
    ``Language_files``), ``model_path`` (the folder or file of ``pytorch_model.bin``)."""
    code_dir = config.get("code_dir")
    language_files = config.get("language_files") or os.path.join(code_dir or ".",
                                                                  "Language_files")
    weights = config["model_path"]
    if os.path.isdir(weights):
        weights = os.path.join(weights, "pytorch_model.bin")
    return {"model": radfm_model(code_dir, language_files, weights),
            "tokenizer": radfm_tokenizer(language_files)}


class RadFM(NeuralAdapter):
    name = "radfm"
    input_spec = "radfm"
    description = "RadFM: 3x512x512xD, D a multiple of 4 up to 64, min-max."
    card = ModelCard(
        title="RadFM", weights="chaoyi-wu/RadFM pytorch_model.bin + Language_files",
        source="chaoyi-wu/RadFM@9efba84: Quick_demo/test.py, Model/RadFM/multimodality_model.py,"
               " src/Dataset/dataset/radiopaedia.py",
        prompt="<image><image0>..<image31></image> + question",
        decoding="fixed by its generate(): greedy, 200 new tokens",
        slice_order="inferior first along D (the last axis of (3, H, W, D))",
        trained_on_ct_rate=False,
        deviations=("min-max of raw HU: its training volumes were Radiopaedia's windowed JPEG "
                    "stacks min-maxed and its code has no raw-CT rule",
                    "in-plane resize linear; its loader's last interpolate is nearest",
                    "language model built from Language_files' config, then pytorch_model.bin "
                    "memory-mapped and loaded strictly (its own from_pretrained of that folder "
                    "fails: no weights there)",
                    "generation stops at </s> (2): its config's eos_token_id 1 let every answer "
                    "run to 200 tokens"),
        status="tested offline on a stand-in with a LayerNorm->Linear patch embedding, "
               "float32 and bfloat16")
    # its loader reads <model_path>/pytorch_model.bin (or the file itself) and the language
    # model's config from Language_files; no hub id
    checkpoint_files = {"model_path": (("pytorch_model.bin",), False),
                        "language_files": (("config.json",), False)}
    code_folders = ("code_dir",)
    config_examples = {"model_path": "the folder holding RadFM's pytorch_model.bin "
                                     "(chaoyi-wu/RadFM on Hugging Face); also set code_dir"}
    # what MultiLLaMAForCausalLM.generate does; it takes no settings
    generation_defaults = {"max_new_tokens": 200}
    # Quick_demo/test.py moves the model to CUDA as loaded (float32) and the image with it
    default_dtype = "float32"

    @classmethod
    def image_tokens(cls, spec: Any, checkpoint_config: dict[str, Any]) -> int | None:
        return TOKENS_PER_IMAGE + 2  # <image>, 32 image tokens, </image>: one image

    @classmethod
    def memory_sources(cls, config: dict[str, Any]) -> tuple[Any, Any] | None:
        """Language_files' config.json and the pytorch_model.bin."""
        from pathlib import Path

        language = config.get("language_files") or (
            os.path.join(config["code_dir"], "Language_files") if config.get("code_dir") else None)
        weights = config.get("model_path")
        if not language or not weights or not Path(language, "config.json").is_file() \
                or not os.path.exists(weights):
            return None
        return Path(language, "config.json"), Path(weights)

    def _load(self, config: dict[str, Any]) -> None:
        parts = resolve_factory(config, load_radfm)(config, self)
        # the model in the dtype vision_x gets: the 3D ViT's LayerNorm -> Linear patch embedding
        # fails on a float32 model given bfloat16 pixels ("mat1 and mat2 ... same dtype")
        self.model = parts["model"].to(self.device, self._dtype()).eval()
        self.tokenizer = parts["tokenizer"]
        self._modules = [self.model]
        if config.get("generation"):
            raise ValueError("RadFM's generate() fixes its decoding (greedy, 200 tokens); "
                             "remove radfm.inference.config.generation")

    def vision_x(self, image: Any) -> Any:
        """``(1, 1, 3, H, W, D)`` from the preprocessed ``(H, W, D)`` 0..1 volume."""
        import numpy as np
        import torch

        volume = torch.from_numpy(np.asarray(image, dtype=np.float32))
        return volume[None, None, None].expand(1, 1, 3, *volume.shape).contiguous().to(
            self.device, self._dtype())

    def prompt_of(self, question: str) -> str:
        return image_placeholder(0) + question

    def answer_volume(self, image: Any, questions: list[Question]) -> list[Answer]:
        import torch

        from ct_spatial_bench.models.batch_decode import hit_token_limit

        answers = []
        for item in questions:
            prompt = self.prompt_of(item.text)
            lang_x = self.tokenizer(prompt, max_length=2048, truncation=True,
                                    return_tensors="pt")["input_ids"].to(self.device)
            with torch.inference_mode():
                output = self.model.generate(lang_x, self.vision_x(image))
            # its generate's fixed 200 tokens (generation_defaults), its language model's </s>
            answers.append(Answer(
                self.tokenizer.batch_decode(output, skip_special_tokens=True)[0].strip(), prompt,
                hit_token_limit=hit_token_limit(getattr(self.model, "lang_model", self.model),
                                                self._generate_kwargs(), output[0])))
        return answers
