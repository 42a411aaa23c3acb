"""Merlin's report generator (the ``merlin-vlm`` package) asked the benchmark's questions.

StanfordMIMI/Merlin ``merlin/data/monai_transforms.py``: RAS, 1.5x1.5x3 mm (bilinear), HU
-1000..1000 to 0..1 (clipped), centre pad/crop to 224x224x160, a ``(B, 1, 224, 224, 160)`` tensor
in (x, y, z) order (the image encoder permutes it itself). ``documentation/
report_generation_demo.py``: ``Merlin(RadiologyReport=True)``, ``model.generate(images,
[prompt], do_sample=False, num_beams=1, repetition_penalty=1.2, max_new_tokens=128)``, prompts
ending in ``###\\n`` and the answer cut at the next ``###``. Merlin was trained to write
organ-system reports ("Generate a radiology report for <organ>###\\n"); we put the question where
the instruction goes and keep everything else.
"""

from __future__ import annotations

from typing import Any

from ct_spatial_bench.models.base import Answer, Question
from ct_spatial_bench.models.common import NeuralAdapter
from ct_spatial_bench.models.cards import ModelCard
from ct_spatial_bench.models.components import resolve_factory


# StanfordMIMI/Merlin@2489a96 merlin/models/load.py:17-19, 72-76: the report generator's weights,
# downloaded into the package's own models/checkpoints folder; they hold the whole
# Clip3DForTextGeneration state (I3D ResNet-152, adapter, RadLLaMA with its LoRA), :87.
REPORT_CHECKPOINT = "resnet_gpt2_best_stanford_report_generation_average.pt"
# merlin/models/radiology_report_generation.py:76-85: RadLLaMA-7b from the hub, cached under
# cache_dir="./checkpoints" of the working directory.
RADLLAMA, RADLLAMA_CACHE = "StanfordAIMI/RadLLaMA-7b", "checkpoints"
STRIDES_IN_PLANE, STRIDES_IN_DEPTH = 5, 4  # conv1, maxpool, layer2-4; conv1 keeps the depth


def halved(side: int, times: int) -> int:
    """``side`` after ``times`` stride-2 layers of kernel 3 / padding 1 (or 7 / 3): each gives
    floor((n + 2p - k) / 2) + 1 = ceil(n / 2)."""
    for _ in range(times):
        side = -(-side // 2)
    return side


def load_merlin(config: dict[str, Any], adapter: Any) -> dict[str, Any]:
    """The package downloads its weights (``stanfordmimi/Merlin``) into its own folder."""
    from merlin import Merlin

    return {"model": Merlin(RadiologyReport=True)}


class MerlinReport(NeuralAdapter):
    name = "merlin"
    input_spec = "merlin"
    description = "Merlin report generator: RAS 224x224x160 at 1.5x1.5x3 mm, HU to 0..1."
    card = ModelCard(
        title="Merlin", weights="stanfordmimi/Merlin (fetched by merlin-vlm)",
        source="StanfordMIMI/Merlin@2489a96: merlin/data/monai_transforms.py, "
               "documentation/report_generation_demo.py",
        prompt='question + "###\\n" (the report prompt with the question as instruction)',
        decoding="greedy, repetition_penalty 1.2, 128 new tokens; answer cut at ###",
        slice_order="inferior first (RAS, z last)",
        trained_on_ct_rate=False,
        deviations=("a report generator, never trained for VQA",
                    "float32; the demo runs float16"),
        status="tested offline on a stand-in, float32; in its own environment (env check "
               "merlin) loads a tiny model built by merlin-vlm's own classes and answers "
               "as the authors' documented call")
    checkpoint_files = {}  # the merlin-vlm package fetches its own weights into its folder
    config_examples = {"model_path": "stanfordmimi/Merlin (fetched by the merlin-vlm package)"}
    generation_defaults = {"num_beams": 1, "repetition_penalty": 1.2, "max_new_tokens": 128}
    default_template = "{question}###\n"
    default_dtype = "float32"  # the package's model as loaded (the demo casts to float16)

    @classmethod
    def image_tokens(cls, spec: Any, checkpoint_config: dict[str, Any]) -> int | None:
        """The I3D ResNet's last feature map, one token per voxel (radiology_report_generation.py
        :27-31, "[8, 2048, 10, 7, 7] -> [8, 490, 2048]"): the (x, y, z) volume permuted to
        (z, x, y) (:55), halved 5 times in-plane (i3res.py:34-46: conv1, maxpool, layer2-4) and 4
        times in depth (conv1 keeps it: stride (1, 2, 2), inflate.py:12-15)."""
        shape = getattr(spec, "shape", None)
        if not shape or len(shape) != 3 or not all(shape):
            return None
        x, y, z = shape
        return (halved(x, STRIDES_IN_PLANE) * halved(y, STRIDES_IN_PLANE)
                * halved(z, STRIDES_IN_DEPTH))

    @classmethod
    def memory_sources(cls, config: dict[str, Any]) -> tuple[Any, Any] | None:
        """RadLLaMA's config.json from the cache the package's TextDecoder fills
        (``radllama_cache``, default ./checkpoints of the working directory) and the report
        checkpoint (``report_checkpoint``, default the installed merlin package's
        models/checkpoints/): every parameter of the model, encoder and LoRA included."""
        import importlib.util
        from pathlib import Path

        from huggingface_hub import try_to_load_from_cache

        weights = config.get("report_checkpoint")
        if not weights:
            spec = importlib.util.find_spec("merlin")
            origin = getattr(spec, "origin", None)
            weights = origin and Path(origin).parent / "models" / "checkpoints" / REPORT_CHECKPOINT
        radllama = try_to_load_from_cache(RADLLAMA, "config.json",
                                          cache_dir=config.get("radllama_cache") or RADLLAMA_CACHE)
        if not weights or not Path(weights).is_file() or not isinstance(radllama, str):
            return None
        return Path(radllama).absolute(), Path(weights)

    def _load(self, config: dict[str, Any]) -> None:
        parts = resolve_factory(config, load_merlin)(config, self)
        self.model = parts["model"].to(self.device, self._dtype()).eval()
        self._modules = [self.model]
        self.template = config.get("prompt_template", self.default_template)

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "prompt_template": self.template}

    def prompt_template(self) -> Any:
        return self.template

    def image_tensor(self, image: Any) -> Any:
        """``(1, 1, 224, 224, 160)`` in (x, y, z) from the preprocessed 0..1 volume, in the
        model's dtype."""
        import numpy as np
        import torch

        volume = torch.from_numpy(np.asarray(image, dtype=np.float32))[None, None]
        return volume.to(self.device, self._dtype())

    def answer_volume(self, image: Any, questions: list[Question]) -> list[Answer]:
        import torch

        answers, prompts = [], []
        for item in questions:
            prompt = self.template.format(question=item.text)
            with torch.inference_mode():
                texts = self.model.generate(self.image_tensor(image), [prompt],
                                            **self._generate_kwargs())
            answers.append(str(texts[0]).split("###")[0].strip())
            prompts.append(prompt)
        return [Answer(text, prompt) for text, prompt in zip(answers, prompts)]
