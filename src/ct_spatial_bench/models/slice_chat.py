"""The chat over CT slices that a local (``adapters/hf_vlm``) and a served
(``adapters/openai_vlm``) vision-language model share: the input is ``(n, rows, columns, 3)``
uint8 slices in radiological display (rows anterior to posterior, columns patient right to
left); one user message holds the instruction, the slices (each optionally followed by a label
such as ``SLICE 3``) and the question last."""

from __future__ import annotations

from typing import Any, ClassVar

DEFAULT_INSTRUCTION = (
    "You are a radiologist reading axial slices of a chest CT. The slices are shown in order, "
    "in radiological convention: the patient's right is on the left of each image and anterior "
    "is at the top."
)


class SliceChat:
    """Mixed into an adapter that reads slices: its prompt (``prompt_defaults``, overridden by
    ``config["prompt"]`` into ``self.prompt`` at load) and the message it sends."""

    reads_slices: ClassVar[bool] = True
    # prompt defaults; config["prompt"] overrides any of them
    prompt_defaults: ClassVar[dict[str, Any]] = {
        "instruction": DEFAULT_INSTRUCTION,
        "slice_label": None,  # e.g. "SLICE {i}" after each image
        "question": "{question}",
        "layout": "slices",  # or "montage": one tiled image
    }
    prompt: dict[str, Any]

    def prompt_template(self) -> Any:
        return dict(self.prompt)

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
