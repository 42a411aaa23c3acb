"""The mask_qa pipeline: its nodes on small label maps, and the acceptance run on the sanity
split."""

from __future__ import annotations

import json

import nibabel as nib
import numpy as np
import pytest
from support.project import make_scratch_project, run_sanity_then

from ct_spatial_bench.pipelines.mask_qa.nodes import build_mask_questions
from ct_spatial_bench.records import QAItem


def _case_maps():
    """A tiny phantom-table case: spine at the midline, a nodule in the right lower lobe."""
    tissues = np.zeros((40, 20, 20), np.uint8)
    tissues[20, 5, :] = 10                       # spine: the midline, world x = 0
    lobes = np.zeros_like(tissues)
    lobes[25:35, 5:15, 0:10] = 3                 # right lower lobe
    lobes[25:35, 5:15, 10:20] = 1                # right upper lobe
    findings = np.zeros_like(tissues)
    findings[28:31, 8:11, 3:6] = 1               # nodule inside the lower lobe
    affine = np.diag([2.0, 2.0, 2.0, 1.0])
    affine[:3, 3] = [-40.0, 0.0, 0.0]
    return {name: nib.Nifti1Image(array, affine)
            for name, array in (("tissues", tissues), ("lobes", lobes), ("findings", findings))}


def test_a_volume_without_label_maps_is_listed_and_skipped():
    maps = {f"case_a/{name}": (lambda image=image: image) for name, image in _case_maps().items()}
    qa = [QAItem(qa_id=f"{case}::0", case_id=case, image_path=case)  # benchmark_qa's items
          for case in ("case_a.nii.gz", "case_b.nii.gz")]
    items, skips = build_mask_questions(qa, maps, {"table": "phantom", "balance": False})
    assert {i["case_id"] for i in items} == {"case_a.nii.gz"}
    assert [s for s in skips if s["reason"] == "no label map"] == [
        {"case_id": "case_b.nii.gz", "family": "*", "reason": "no label map",
         "subject": "case_b", "reference": "", "measurement": {}}]
    # one containment relation is kept (the other follows from it): whichever, it is right
    asked = [i for i in items if i["family"] == "containment"
             and i["meta"]["polarity"] == "positive"]
    assert len(asked) == 1
    assert (asked[0]["answer"] == "Yes") == (asked[0]["meta"]["reference"]
                                             == "lung_lower_lobe_right")


@pytest.fixture(scope="module")
def sanity_run(tmp_path_factory):
    root = make_scratch_project(tmp_path_factory.mktemp("mask_qa_project"))
    run_sanity_then(root, "mask_qa")
    return root


@pytest.mark.slow
def test_sanity_split_acceptance(sanity_run):
    rows = [json.loads(line) for line in open(sanity_run / "data/03_primary/mask_qa.jsonl")]
    asked = [r for r in rows if not r["meta"]["mirrored"]]
    assert len(asked) >= 100 and len({r["case_id"] for r in asked}) == 10  # after the rules
    for row in rows:
        assert {"qa_id", "question", "answer", "answer_type", "categories", "family",
                "measurement"} <= set(row)
    summary = [json.loads(line)
               for line in open(sanity_run / "data/08_reporting/mask_qa_summary.jsonl")]
    by = {(r["model"], r["kind"], r["group"]): r for r in summary}
    assert by[("reference answers", "overall", "all")]["accuracy"] == 1.0
    assert abs(by[("blind", "paired", "per item")]["accuracy"] - 0.5) <= 0.1
    geometry = by[("geometry", "overall", "all")]
    assert geometry["accuracy"] > by[("blind", "overall", "all")]["accuracy"]
    assert by[("geometry", "flip", "answer flips with the mirror")]["accuracy"] == 1.0
    # geometry measures its own segmentation with the ground truth's code: where it answers a
    # closed question (it does not segment organs: those are unreadable), it is right
    scores = [json.loads(line)
              for line in open(sanity_run / "data/07_model_output/mask_qa/scores.jsonl")]
    read = [s for s in scores if s["model"] == "geometry" and s["answer_type"] == "closed"
            and s["outcome"] in ("correct", "wrong")]
    assert len(read) > 50 and sum(s["outcome"] == "correct" for s in read) >= 0.95 * len(read)
    report = (sanity_run / "data/08_reporting/report.html").read_text()
    assert "Mask-derived track" in report and "reference answers" in report
