"""The geometry baseline on the mask track's questions: measured from its own segmentation."""

from __future__ import annotations

import pytest

from ct_spatial_bench.mask_qa.tables import load_label_table
from ct_spatial_bench.mask_qa.track import maps_by_volume, split_questions
from ct_spatial_bench.baselines.geometry import UNKNOWN, GeometryBaseline
from ct_spatial_bench.baselines.geometry_mask import is_mask_question
from ct_spatial_bench.synthetic import generate_sanity_split


def test_mask_questions_are_told_from_other_questions():
    assert is_mask_question("Is the lung nodule above the level of the carina?")
    assert is_mask_question("What is the largest diameter of the lung nodule, in millimetres?")
    assert not is_mask_question("In which lung is the nodule located?")


@pytest.mark.slow
def test_geometry_answers_what_it_segments_and_not_the_organs():
    split = generate_sanity_split(n_cases=1, seed=5, non_ras_orientations=())
    loaders = {k: (lambda image=image: image) for k, image in split.label_maps.items()}
    volumes = [{"case_id": "phantom_000.nii.gz", "image_path": "phantom_000.nii.gz",
                "key": "phantom_000"}]
    items, _ = split_questions(volumes, maps_by_volume(loaders), load_label_table("phantom"),
                               {}, balanced=False, leak_free=False)
    model = GeometryBaseline()
    model.load({})
    image = split.volumes["phantom_000"]
    findings_only = [i for i in items if i["answer_type"] == "closed"
                     and i["meta"]["subject"] in ("nodule", "pleural_effusion", "consolidation")
                     and (i["meta"]["reference"] in ("", "carina")
                          or i["meta"]["reference"].startswith("lung_"))
                     and not i["meta"]["mirrored"]]
    assert len(findings_only) >= 8
    for item in findings_only:
        assert model.answer_text(item["question"], image) == item["answer"], item["question"]
    organ = next(i for i in items if i["meta"]["reference"] == "heart")
    assert model.answer_text(organ["question"], image) == UNKNOWN
