"""What a reader must know to trust a model's row: its authors' source, prompt, decoding, slice
order, training data and every known deviation, declared as data on each adapter class (``card``)
and printed by ``python -m ct_spatial_bench.models describe`` into models/README.md.
"""

from __future__ import annotations

from dataclasses import dataclass

# M3D and Med3DVLM train their VQA with per-axis RandFlip (p 0.1) and in-plane RandRotate90
# (p 0.5): left and right are partly unlearnable for them, which bears on any laterality score.
FLIP_AUGMENTATION = (
    "trained with RandFlip on each axis (p 0.1) and RandRotate90 in the image plane (p 0.5) "
    "({files}): left/right is partly unlearnable, so read its laterality figures with that in mind")


@dataclass(frozen=True)
class ModelCard:
    title: str
    source: str  # "owner/repo@commit: files read" or "-"
    prompt: str
    decoding: str
    slice_order: str
    # trained on CT-RATE-derived data (CT-SpatialVQA is built from CT-RATE): True, False, or
    # None where the authors' material read does not say
    trained_on_ct_rate: bool | None
    deviations: tuple[str, ...] = ()
    status: str = ""
    weights: str = ""
    # stated beside the model's laterality figures in the report too (first of its deviations)
    laterality_caveat: str = ""

    def all_deviations(self) -> tuple[str, ...]:
        return ((self.laterality_caveat,) if self.laterality_caveat else ()) + self.deviations


@dataclass(frozen=True)
class UnregisteredModel:
    """A model users asked for that has no adapter, and why."""

    title: str
    source: str
    weights: str
    trained_on_ct_rate: bool | None
    why: str


UNREGISTERED = (
    UnregisteredModel(
        "MedM-VL-CT-Chest", "MSIIP/MedM-VL (lvlm/inference.py, examples/MedM-VL-CT-Chest/)",
        "shiym2000/MedM-VL-CT-Chest-3B-en (public)", True,
        "not adapted yet: weights are public, but it runs through its own `lvlm` package "
        "(CT-CLIP or M3D-CLIP encoder, Qwen2.5-3B) on CT-RATE's preprocessed npy volumes; "
        "fine-tuned on CT-RATE's train split"),
    UnregisteredModel(
        "OmniCT", "ZJU4HealthCare/OmniCT (README only)", "none released", None,
        "not runnable: the repository's TODO lists inference code and checkpoints as unreleased"),
    UnregisteredModel("MS-VLM", "none found", "none found", True,
                      "not runnable: no public code or weights found (CT-RATE chest CT + rectal "
                      "MRI report generation)"),
    UnregisteredModel("E3D-GPT", "none found", "none found", None,
                      "not runnable: no public code or weights found"),
    UnregisteredModel("BrainMD", "YuliWanghust/BrainMD (data/cohort scripts)", "none found",
                      False, "not runnable: brain MRI, no released generative model"),
    UnregisteredModel("DeepTumorVQA", "Schuture/DeepTumorVQA", "dataset only", None,
                      "a benchmark, not a model: its models (M3D, RadFM, Merlin, CT-CHAT) "
                      "are registered here"),
    UnregisteredModel("FILA / fVLM", "gktpmuhammed/fvlm", "Google Drive", True,
                      "contrastive (CLIP-style) encoder trained on CT-RATE: cannot answer "
                      "free-text questions"),
)
