"""Acceptance of issue 9 on the sanity split: ``kedro run`` then ``kedro run --pipelines probes``
for the offline baselines, in a scratch copy of the project."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from support.project import make_scratch_project, run_sanity_then




@pytest.fixture(scope="module")
def probes_run(tmp_path_factory):
    root = make_scratch_project(tmp_path_factory.mktemp("probes_project"))
    # One strength per perturbation keeps the test short; the conf has three.
    params = root / "conf/base/parameters_probes.yml"
    text = params.read_text()
    for line, short in (("noise: [5, 15, 30]", "noise: [30]"),
                        ("blur: [0.5, 1.0, 2.0]", "blur: [2.0]"),
                        ("shift: [25, 50, 100]", "shift: [100]"),
                        ("slice_spacing: [2, 3, 4]", "slice_spacing: [4]")):
        assert line in text
        text = text.replace(line, short)
    params.write_text(text)
    run_sanity_then(root, "probes")
    return root


def _csv(path: Path) -> dict[str, dict]:
    with open(path, newline="") as handle:
        return {row["model"]: row for row in csv.DictReader(handle)}


@pytest.mark.slow
def test_geometry_follows_the_flip_and_blind_does_not(probes_run):
    rows = _csv(probes_run / "data/08_reporting/probes/does_it_look.csv")
    assert {"model", "n_items", "flip_consistency", "same_side_rate", "blind_gap"} <= set(
        rows["geometry"])
    geometry, blind = rows["geometry"], rows["blind"]
    assert int(geometry["n_items"]) == int(blind["n_items"]) > 0
    assert float(geometry["flip_consistency"]) == 1.0
    assert float(blind["flip_consistency"]) == 0.0 and float(blind["same_side_rate"]) == 1.0
    # geometry is right on every item, so its gap is what the blind prior misses; the paired test
    # must find it above zero
    assert 0 < float(geometry["blind_gap"]) < 1 and geometry["blind_gap_flagged"] == "False"


@pytest.mark.slow
def test_mirrored_answers_are_swapped_and_joined_by_key(probes_run):
    items = [json.loads(line) for line in (
        probes_run / "data/07_model_output/probes/flip_items.jsonl").read_text().splitlines()]
    assert items and all(i["answer"] != i["meta"]["original_answer"] for i in items)
    mirrored = probes_run / "data/07_model_output/probes/geometry_mirrored.jsonl"
    preds = [json.loads(line) for line in mirrored.read_text().splitlines()]
    assert sorted(p["qa_id"] for p in preds) == sorted(i["qa_id"] for i in items)
    assert all(p["variant"] == "mirror_lr" for p in preds)


@pytest.mark.slow
def test_robustness_and_report(probes_run):
    with open(probes_run / "data/08_reporting/probes/robustness.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert {r["perturbation"] for r in rows} == {"noise", "blur", "shift", "slice_spacing"}
    assert {r["category"] for r in rows} >= {"All", "Laterality & Bilateral Symmetry"}
    report = (probes_run / "data/08_reporting/report.html").read_text()
    assert report.index("Does it look?") < report.index("Accuracy by spatial category")
    assert "Robustness to perturbations" in report and "Blind gap by category" in report
