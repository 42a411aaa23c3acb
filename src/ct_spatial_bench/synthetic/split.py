"""The sanity split: a handful of phantom CTs with exact spatial ground truth and questions.

Why it exists: the whole benchmark must run offline on a laptop, and its scoring must be checked
against answers that are known to be right. Every answer here is computed from where the generator
put each finding, so a reader that truly locates things (the geometry baseline) can score ~100%,
and a reader that ignores the image orientation gets left and right wrong on the non-RAS cases.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import nibabel as nib

from ..records import QAItem
from .label_maps import case_label_maps
from .phantom import PhantomCase, generate_case
from .questions import case_questions
from .reports import write_report


@dataclass
class SanitySplit:
    """Everything the sanity_data stage writes.

    volumes: partition key ('phantom_000') -> NIfTI image, written as '<key>.nii.gz'.
    findings: one row per inserted finding (the exact ground truth: side, lobes, depth, ...).
    reports: one row per case: case_id, findings_text, impressions_text.
    qa_candidates: ``QAItem`` records, every field of ``records.QA_FIELDS`` set.
    cases: one row per case: orientation, shape, spacing, plan, landmarks (deterministic).
    label_maps: '<key>/<map>' -> the case's label maps (``label_maps.py``), stored like its volume.
    seconds: generation time per case key (for logs; the only field that varies between runs).
    """

    volumes: dict[str, nib.Nifti1Image]
    findings: list[dict[str, Any]]
    reports: list[dict[str, Any]]
    qa_candidates: list[QAItem]
    cases: list[dict[str, Any]] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)
    label_maps: dict[str, nib.Nifti1Image] = field(default_factory=dict)


def non_ras_case_indices(n_cases: int, n_non_ras: int) -> list[int]:
    """Case indices stored in the non-RAS orientations: spread evenly, never case 0."""
    if n_non_ras == 0:
        return []
    if n_non_ras >= n_cases:
        raise ValueError(f"{n_non_ras} non-RAS orientations need more than {n_cases} cases")
    step = n_cases / (n_non_ras + 1)
    return [int(round(step * (j + 1))) for j in range(n_non_ras)]


def generate_sanity_split(
    n_cases: int = 10,
    seed: int = 0,
    shape: Sequence[int] = (176, 144, 128),
    spacing: Sequence[float] = (1.5, 1.5, 3.0),
    non_ras_orientations: Sequence[str] = ("LPS", "PSR"),
) -> SanitySplit:
    """Generate the sanity split, deterministically from ``seed``.

    n_cases: number of phantom CTs ('phantom_000' ...); findings follow a 10-case cycle of plans.
    seed: same seed (and other arguments) -> byte-identical volumes and identical records.
    shape, spacing: RAS voxel grid and voxel size in mm (x, y, z). The anatomy is designed for a
        264 x 216 x 384 mm field of view (the defaults) and shrinks to fit a smaller one.
    non_ras_orientations: storage orientation codes, one case each (e.g. 'LPS' mirrors x and y,
        'PSR' permutes the axes); all other cases are stored RAS. World positions never change.
    """
    orientations = ["RAS"] * n_cases
    for index, code in zip(non_ras_case_indices(n_cases, len(non_ras_orientations)),
                           non_ras_orientations):
        orientations[index] = str(code).upper()
    volumes, findings, reports, questions, cases, seconds, maps = {}, [], [], [], [], {}, {}
    for index in range(n_cases):
        start = time.perf_counter()
        case: PhantomCase = generate_case(index, seed=seed, shape=tuple(shape),
                                          spacing=tuple(spacing), orientation=orientations[index])
        volumes[case.key] = case.image
        findings.extend(case.findings)
        reports.append(write_report(case.case_id, case.findings))
        questions.extend(case_questions(case.case_id, index, case.findings, case.orientation))
        cases.append(case.anatomy)
        maps.update((f"{case.key}/{name}", image) for name, image in case_label_maps(case).items())
        seconds[case.key] = round(time.perf_counter() - start, 3)
    return SanitySplit(volumes, findings, reports, questions, cases, seconds, maps)


def generate_prior_questions(
    n_cases: int,
    first_index: int,
    seed: int = 0,
    shape: Sequence[int] = (176, 144, 128),
    spacing: Sequence[float] = (1.5, 1.5, 3.0),
    **split_params: Any,
) -> list[QAItem]:
    """Questions about ``n_cases`` more phantoms of the same generator, from ``first_index`` on.

    They are never rendered to disk or asked: they give answer-prior baselines (the blind one)
    questions of the same forms about cases disjoint from the split's, so that a prior's score
    on the split is honest. Other split parameters are accepted and ignored.
    """
    questions: list[QAItem] = []
    for index in range(first_index, first_index + n_cases):
        case = generate_case(index, seed=seed, shape=tuple(shape), spacing=tuple(spacing),
                             render=False)  # only its findings are read
        questions.extend(case_questions(case.case_id, index, case.findings, case.orientation))
    return questions
