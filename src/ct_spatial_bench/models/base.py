"""The one protocol every model under test implements, and the input it receives."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable


@dataclass
class ModelInput:
    """One question for a model: the QA item and, unless the model is blind, its image.

    ``image`` is what the model's input spec produced in preprocessing: for the ``ras_hu`` spec a
    ``nibabel.Nifti1Image`` in RAS+ axis order holding Hounsfield units, so ``image.affine`` maps
    voxels to patient millimetres. The reference answer is never passed to a model.
    """

    qa_id: str
    question: str
    image: Any | None = None
    meta: dict[str, Any] = field(default_factory=dict)


@runtime_checkable
class ModelAdapter(Protocol):
    """A model under test.

    ``input_spec`` names the preprocessing spec whose output the model reads (None: no image).
    ``load`` is called once before ``answer``; heavy imports belong there. ``answer`` returns one
    answer per input, in order. ``describe`` returns what goes into every prediction: the model's
    revision and the decoding settings actually used.
    """

    name: str
    input_spec: str | None

    def load(self, config: dict[str, Any]) -> None: ...

    def answer(self, batch: list[ModelInput]) -> list[str]: ...

    def describe(self) -> dict[str, Any]: ...
