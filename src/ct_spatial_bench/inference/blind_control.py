"""The blind control of any model: the same prompt, with the image blanked or withheld.

A model that scores as well blind as sighted answers from its language prior, not the CT.
Predictions of a blind run carry the model's own name (``model="<name>"``, ``base_model`` the
same), ``variant="blind"`` and ``blind=True``: a variant is a field, never a suffix in the name.
Every stage groups by the entry (``records.entry_of``), so the blind control is its own row,
shown as ``<name>_blind``, and reporting pairs a model with its twin by ``(model, qa_id)``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ct_spatial_bench.models.base import Answer, ModelAdapter, Question
from ct_spatial_bench.records import BLIND_VARIANT, entry_label

BLIND_MODES = ("zero", "withhold")
# A blind run's own checkpoint beside its model's (``x.jsonl`` -> ``x_blind.jsonl``): the file
# blind runs have always written, so an interrupted one resumes.
CHECKPOINT_SUFFIX = f"_{BLIND_VARIANT}"


def blank_like(image: Any) -> Any:
    """An input of the same kind, shape and dtype as ``image`` holding only zeros.

    Zeros in the model's own input space (0 HU for a HU volume, 0 for a 0..1 volume, black for
    RGB slices), so the model still gets its image tokens and the prompt is unchanged.
    """
    import numpy as np

    if image is None:
        return None
    if hasattr(image, "affine") and hasattr(image, "dataobj"):
        import nibabel as nib

        data = np.zeros(image.shape, dtype=image.get_data_dtype())
        return nib.Nifti1Image(data, image.affine)
    if isinstance(image, (list, tuple)):
        return type(image)(blank_like(part) for part in image)
    return np.zeros_like(np.asarray(image))


class BlindControl(ModelAdapter):
    """Wraps an adapter: every image is zeroed (``mode="zero"``) or replaced by None
    (``"withhold"``: the adapter then leaves the image out where its model allows)."""

    blind = True
    variant = BLIND_VARIANT

    def __init__(self, inner: ModelAdapter, mode: str = "zero") -> None:
        if mode not in BLIND_MODES:
            raise ValueError(f"blind mode must be one of {BLIND_MODES}, got {mode!r}")
        self.inner = inner
        self.mode = mode
        # The run's label, not the predictions' model (``base_model``): what logs name and the
        # run signature hashes, unchanged from when it was the model's name, so a checkpoint
        # written then is still this run's and resumes without asking again.
        self.name = entry_label(inner.name, BLIND_VARIANT)
        self.input_spec = inner.input_spec
        self._blank_of: tuple[Any, Any] = (None, None)  # (image, its blank): one per volume

    @property
    def base_model(self) -> str:
        return self.inner.name

    def load(self, config: dict[str, Any]) -> None:
        self.inner.load(config)

    def answer_volume(self, image: Any, questions: list[Question]) -> Iterable[Answer]:
        blinded = [Question(q.qa_id, q.text, {**q.meta, "blind": self.mode}) for q in questions]
        return self.inner.answer_volume(self._blank(image), blinded)

    def _blank(self, image: Any) -> Any:
        if self.mode == "withhold" or image is None:
            return None
        if self._blank_of[0] is not image:  # the engine passes one image object per volume
            self._blank_of = (image, blank_like(image))
        return self._blank_of[1]

    def prompt_template(self) -> Any:
        return self.inner.prompt_template()

    def describe(self) -> dict[str, Any]:
        description = dict(self.inner.describe())
        description["blind"] = self.mode
        return description

    def efficiency(self) -> dict[str, Any] | None:
        return self.inner.efficiency()

    def close(self) -> None:
        self.inner.close()
