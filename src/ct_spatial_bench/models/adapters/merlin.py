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
        status="tested offline on a stand-in, float32")
    checkpoint_files = {}  # the merlin-vlm package fetches its own weights into its folder
    config_examples = {"model_path": "stanfordmimi/Merlin (fetched by the merlin-vlm package)"}
    generation_defaults = {"num_beams": 1, "repetition_penalty": 1.2, "max_new_tokens": 128}
    default_template = "{question}###\n"
    default_dtype = "float32"  # the package's model as loaded (the demo casts to float16)

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
