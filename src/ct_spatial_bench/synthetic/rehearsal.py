"""A CT-RATE-shaped folder of phantoms with CT-SpatialVQA-shaped QA: the full split, rehearsed.

Why: ``--env full`` reads CT-RATE's folder layout, its metadata CSV and CT-SpatialVQA's QA and
categories files. The phantoms of the sanity split, stored in those forms, let a user (and CI)
walk the full split's commands on a laptop, with answers known exactly.

* volumes: ``dataset/valid_fixed/valid_<n>/valid_<n>_a/valid_<n>_a_<k>.nii.gz``; two
  reconstructions of the first patient (``_a_1``, ``_a_2``); some cases stored non-RAS;
* every ``raw_every``-th volume in the first release's form: unit voxel size in the header and raw
  stored values (HU minus the intercept), with no rescale, so only
  ``dataset/metadata/validation_metadata.csv`` (every volume's row, as CT-RATE ships it) makes
  them HU in millimetres again;
* ``dataset/radiology_text_reports/validation_reports.csv``: the phantoms' reports;
* the QA as ``spatial_qa_filtered_full_nifti.jsonl`` rows (``case_id``, ``image_path`` with
  upstream's ``dataset/data_volumes/dataset/valid_fixed/`` prefix, ``question``, ``answer``) and
  ``spatial_qa_filtered_full_with_categories.json`` (``{case_id: {qa_pairs: [...]}}``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import nibabel as nib
import numpy as np

from .split import generate_sanity_split

UPSTREAM_PREFIX = "dataset/data_volumes/dataset/valid_fixed/"
RAW_INTERCEPT = -1024.0  # CT-RATE's usual RescaleIntercept


@dataclass
class RehearsalTree:
    volumes: dict[str, nib.Nifti1Image]  # key under dataset/valid_fixed, without .nii.gz
    metadata: list[dict[str, Any]]  # validation_metadata.csv rows
    reports: list[dict[str, Any]]  # validation_reports.csv rows
    qa: list[dict[str, Any]]  # spatial_qa_filtered_full_nifti.jsonl rows
    categories: dict[str, Any]  # spatial_qa_filtered_full_with_categories.json


def volume_name(case_index: int) -> str:
    """Case 0 and 1 are two reconstructions of patient 1; case i >= 1 is patient i's first."""
    patient, reconstruction = (1, case_index + 1) if case_index < 2 else (case_index, 1)
    return f"valid_{patient}_a_{reconstruction}.nii.gz"


def volume_key(name: str) -> str:
    patient = name.split("_a_")[0]
    return f"{patient}/{patient}_a/{name[:-len('.nii.gz')]}"


def raw_release_form(image: nib.Nifti1Image) -> nib.Nifti1Image:
    """``image`` as CT-RATE's first release stored it: unit voxel size, raw stored values."""
    affine = np.array(image.affine, dtype=float)
    affine[:3, :3] = affine[:3, :3] / np.sqrt((affine[:3, :3] ** 2).sum(axis=0))
    stored = (np.asanyarray(image.dataobj).astype(np.int32) - int(RAW_INTERCEPT)).astype(np.int16)
    raw = nib.Nifti1Image(stored, affine)
    raw.set_qform(affine, code=1)
    raw.set_sform(affine, code=1)
    return raw


def metadata_row(name: str, image: nib.Nifti1Image) -> dict[str, Any]:
    from ct_spatial_bench.imaging.orientation import voxel_spacing

    x, y, z = voxel_spacing(image)
    return {"VolumeName": name, "XYSpacing": f"[{x:g}, {y:g}]", "ZSpacing": f"{z:g}",
            "RescaleSlope": 1.0, "RescaleIntercept": RAW_INTERCEPT}


def generate_rehearsal_tree(n_cases: int = 6, seed: int = 0, raw_every: int = 3,
                            shape: Sequence[int] = (176, 144, 128),
                            spacing: Sequence[float] = (1.5, 1.5, 3.0),
                            non_ras_orientations: Sequence[str] = ("LPS", "PSR")) -> RehearsalTree:
    """The rehearsal tree of ``n_cases`` phantoms, deterministically from ``seed``."""
    split = generate_sanity_split(n_cases=n_cases, seed=seed, shape=shape, spacing=spacing,
                                  non_ras_orientations=non_ras_orientations)
    names = {key: volume_name(i) for i, key in enumerate(sorted(split.volumes))}
    case_names = {f"{key.split('/')[-1]}": name for key, name in names.items()}
    volumes, metadata = {}, []
    for i, (key, name) in enumerate(sorted(names.items())):
        image = split.volumes[key]
        metadata.append(metadata_row(name, image))
        volumes[volume_key(name)] = raw_release_form(image) if (i + 1) % raw_every == 0 else image
    reports = [{"VolumeName": _renamed(r["case_id"], case_names),
                "ClinicalInformation_EN": "Not given.", "Technique_EN": "Not given.",
                "Findings_EN": r["findings_text"], "Impressions_EN": r["impressions_text"]}
               for r in split.reports]
    qa, categories = [], {}
    for item in split.qa_candidates:
        name = _renamed(item.case_id, case_names)
        qa.append({"case_id": name, "image_path": UPSTREAM_PREFIX + volume_key(name) + ".nii.gz",
                   "question": item.question, "answer": item.answer})
        categories.setdefault(name, {"qa_pairs": []})["qa_pairs"].append(
            {"question": item.question, "answer": item.answer,
             "category": list(item.categories)})
    return RehearsalTree(volumes, metadata, reports, qa, categories)


def _renamed(case_id: str, case_names: dict[str, str]) -> str:
    stem = case_id[:-len(".nii.gz")] if case_id.endswith(".nii.gz") else case_id
    return case_names[stem]
