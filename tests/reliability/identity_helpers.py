"""A small world whose truths the tests write down themselves: volumes with one bright voxel, and
yes/no questions about which half of the volume it lies in.

The model under test reads the voxel from the image it is given, so its answer is right for the
question it was asked; an answer served for another question (a stale checkpoint row, a shifted
qa_id) is right only by luck, and the scenarios below are built so that luck never helps.
"""

from __future__ import annotations

import numpy as np

from ct_spatial_bench.models.base import Answer, ModelAdapter, Question

# axis, the half it asks about, the question text
HALVES = {
    "left": (2, 0, "Is the bright voxel in the left half?"),
    "right": (2, 1, "Is the bright voxel in the right half?"),
    "upper": (0, 0, "Is the bright voxel in the upper half?"),
    "lower": (0, 1, "Is the bright voxel in the lower half?"),
}
QUESTION_HALF = {text: half for half, (_, _, text) in HALVES.items()}


def volume(voxel: tuple[int, int, int]) -> np.ndarray:
    data = np.zeros((4, 4, 4), dtype=np.float32)
    data[voxel] = 1000.0
    return data


def truth(voxel: tuple[int, int, int], half: str) -> str:
    """Written from where the test put the voxel: index 0-1 is the first half, 2-3 the second."""
    axis, which, _ = HALVES[half]
    return "Yes" if (voxel[axis] >= 2) == bool(which) else "No"


def qa_rows(cases: dict[str, tuple[tuple[int, int, int], list[str]]]) -> list[dict]:
    """Upstream-form rows (no qa_id: it is made from the position within the case, as upstream's
    question_id is), one per (case, half) in the order given."""
    return [{"image_path": f"{case}.nii.gz", "question": HALVES[half][2],
             "answer": truth(voxel, half)}
            for case, (voxel, halves) in cases.items() for half in halves]


class VoxelReader(ModelAdapter):
    """Answers each question from the image it is given, and counts what it was asked."""

    name = "voxel_reader"
    input_spec = "ras_hu"

    def __init__(self, template: str = "{question}") -> None:
        self.asked: list[str] = []
        self.template = template

    def prompt_of(self, question: str) -> str:
        return self.template.replace("{question}", question)

    def answer_volume(self, image, questions: list[Question]):
        voxel = tuple(int(i) for i in np.argwhere(np.asarray(image) > 0)[0])
        for question in questions:
            self.asked.append(question.qa_id)
            yield Answer(truth(voxel, QUESTION_HALF[question.text]), self.prompt_of(question.text))

    def describe(self):
        return {"model_revision": "v1", "generation": {"method": "argmax"}}


def loader(volumes: dict[str, np.ndarray]):
    return lambda image_path: volumes[image_path.removesuffix(".nii.gz")]
