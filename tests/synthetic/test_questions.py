"""The sanity split's records: QA fields, coverage of the six categories, determinism."""

from __future__ import annotations

import hashlib
from collections import Counter

import numpy as np
import pytest

from ct_spatial_bench.records import QA_FIELDS, make_qa_id, normalise_qa_items
from ct_spatial_bench.spatial.categories import CATEGORIES
from ct_spatial_bench.synthetic import SanitySplit, generate_sanity_split
from ct_spatial_bench.synthetic.questions import TEMPLATES


@pytest.fixture(scope="module")
def split() -> SanitySplit:
    return generate_sanity_split()  # the defaults: 10 cases, seed 0, LPS and PSR cases


def test_volumes_and_reports_per_case(split):
    assert sorted(split.volumes) == [f"phantom_{i:03d}" for i in range(10)]
    assert [r["case_id"] for r in split.reports] == [f"phantom_{i:03d}.nii.gz" for i in range(10)]
    assert all(r["findings_text"] and r["impressions_text"] for r in split.reports)
    orientations = Counter(c["orientation"] for c in split.cases)
    assert orientations == {"RAS": 8, "LPS": 1, "PSR": 1}


def test_qa_items_have_every_field_and_unique_ids(split):
    items = split.qa_candidates
    assert all(tuple(item) == QA_FIELDS for item in items)
    assert len({item["qa_id"] for item in items}) == len(items)
    per_case = Counter()
    for item in items:
        assert item["qa_id"] == make_qa_id(item["case_id"], per_case[item["case_id"]])
        per_case[item["case_id"]] += 1
        assert item["image_path"] == item["case_id"]
        assert item["source"] == "synthetic_template"
        assert {"template", "finding_id", "orientation"} <= set(item["meta"])
    assert normalise_qa_items(items) == items  # the records module accepts them unchanged


def test_answers_come_from_the_templates_vocabulary(split):
    for item in split.qa_candidates:
        template = TEMPLATES[item["meta"]["template"]]
        assert template.pattern.match(item["question"])
        assert item["categories"] == list(template.categories)
        if item["meta"]["template"] != "consolidation_lobes":
            assert item["answer"] in template.answers, item
        else:
            assert all(part.capitalize() in template.answers
                       for part in item["answer"].split(" and "))


def test_every_category_covered_and_distractors_present(split):
    spatial = [q for q in split.qa_candidates if q["meta"]["spatial"]]
    distractors = [q for q in split.qa_candidates if not q["meta"]["spatial"]]
    # three or four findings a case (phantom.CASE_PLANS), one distractor a case
    assert 60 <= len(spatial) <= 90
    assert 0.10 <= len(distractors) / len(split.qa_candidates) <= 0.20
    assert all(q["categories"] == [] for q in distractors)
    counts = Counter(c for q in spatial for c in q["categories"])
    assert set(counts) == set(CATEGORIES)
    assert min(counts.values()) >= 4, counts
    # Answers are balanced enough that a constant guess cannot score well.
    for tid in ("nodule_depth", "consolidation_crosses_fissure"):
        answers = Counter(q["answer"] for q in spatial if q["meta"]["template"] == tid)
        assert len(answers) == 2, (tid, answers)


def test_findings_rows_are_exact_ground_truth(split):
    kinds = Counter(f["kind"] for f in split.findings)
    assert kinds["nodule"] + kinds["mass"] == 8 and kinds["lymph_node"] == 10
    # placement varies over the split: every kind on both sides about equally often, both
    # levels of the carina, all four nodal stations
    for kind in ("nodule", "consolidation", "pleural_effusion", "lymph_node"):
        sides = Counter(f["side"] for f in split.findings
                        if f["kind"] in ((kind, "mass") if kind == "nodule" else (kind,)))
        assert abs(sides["Right"] - sides["Left"]) <= 1, (kind, sides)
    for kind in ("nodule", "consolidation", "lymph_node"):
        levels = {f["level_vs_carina"] for f in split.findings if f["kind"] == kind}
        assert {"Above", "Below"} <= levels, (kind, levels)
    assert {f["station"] for f in split.findings if f["kind"] == "lymph_node"} == {
        "Right hilar", "Left hilar", "Right paratracheal", "Left paratracheal"}
    for row in split.findings:
        assert {"case_id", "finding_id", "kind", "centre_ras_mm", "orientation"} <= set(row)
        if row["kind"] in ("nodule", "mass"):
            assert 6.0 <= row["size_mm"] <= 33.0
            assert (row["kind"] == "mass") == (row["size_mm"] >= 30.0)
            assert row["depth"] in ("Anterior", "Posterior")
            assert row["centricity"] in ("Central", "Peripheral", "Subpleural")


def test_same_seed_gives_identical_split():
    def fingerprint(s: SanitySplit):
        arrays = {k: hashlib.sha256(np.asarray(v.dataobj).tobytes()).hexdigest()
                  for k, v in s.volumes.items()}
        return arrays, s.findings, s.reports, s.qa_candidates

    first = generate_sanity_split(n_cases=2, seed=5, non_ras_orientations=("LPS",))
    again = generate_sanity_split(n_cases=2, seed=5, non_ras_orientations=("LPS",))
    assert fingerprint(first) == fingerprint(again)
    other = generate_sanity_split(n_cases=1, seed=6, non_ras_orientations=())
    assert fingerprint(other)[0]["phantom_000"] != fingerprint(first)[0]["phantom_000"]
