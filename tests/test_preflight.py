"""The preflight: what a run reads but does not write is checked before any node, in one
paragraph naming the parameter to fix."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from support.project import make_scratch_project

from ct_spatial_bench.errors import ConfigurationError
from ct_spatial_bench.preflight import RunPlan, check_volumes, judge_lines

JURY = {"judges": [{"name": "openai", "config": {"model": "gpt-4o"}},
                   {"name": "qwen", "config": {"model": "qwen-plus"}}],
        "fallback_judge": "offline"}


def test_missing_volumes_are_counted_listed_and_the_parameter_named(tmp_path):
    (tmp_path / "valid_1" / "valid_1_a").mkdir(parents=True)
    (tmp_path / "valid_1" / "valid_1_a" / "valid_1_a_1.nii.gz").write_bytes(b"")
    keys = [f"valid_{n}/valid_{n}_a/valid_{n}_a_1" for n in range(1, 9)]
    with pytest.raises(ConfigurationError, match=r"^7 of the 8 volumes .* \(e\.g\. valid_2/"
                       r".*, \.\.\.\); check --params ct_rate_root=<path>") as error:
        check_volumes(keys, str(tmp_path), ".nii.gz", "ct_rate_root")
    assert "valid_6/valid_6_a/valid_6_a_1" in str(error.value)
    assert "valid_7/" not in str(error.value)  # five named, the count says the rest
    assert check_volumes(keys[:1], str(tmp_path), ".nii.gz", "ct_rate_root") == 1


def test_keyless_judges_are_skipped_and_the_fallback_said():
    lines = judge_lines(JURY, {"openai": "sk-1"})
    assert lines[0] == "judge openai (gpt-4o)"
    assert "qwen" in lines[1] and "DASHSCOPE_API_KEY" in lines[1] and "skipped" in lines[1]
    assert "fallback" in judge_lines(JURY, {})[-1]
    plan = RunPlan("full", items=10, volumes=2, models=["m3d", "merlin"], judges=lines)
    assert plan.judge_calls() == 10 * 2 * 1
    assert ("answers to judge at most (before the cache): 20 per judge x 1 judge = 20"
            in plan.render())


def test_require_all_judges_stops_before_any_node_but_a_dry_run_does_not():
    with pytest.raises(ConfigurationError, match="require_all_judges is true"):
        judge_lines({**JURY, "require_all_judges": True}, {"openai": "sk-1"})
    lines = judge_lines({**JURY, "require_all_judges": True, "dry_run": True}, {})
    assert all("priced only" in line for line in lines)


@pytest.mark.slow
def test_a_wrong_ct_rate_root_stops_in_seconds_naming_it(tmp_path):
    """The issue's acceptance: kedro run --env full --pipelines benchmark with a ct_rate_root
    that does not exist writes no prediction and its last line names ct_rate_root."""
    import time

    (tmp_path / "project").mkdir()
    root = make_scratch_project(tmp_path / "project")
    qa = tmp_path / "qa" / "spatial_qa_filtered_full_nifti.jsonl"
    qa.parent.mkdir()
    row = {"case_id": "valid_1_a_1.nii.gz", "question": "Which lung?", "answer": "Left.",
           "image_path": "dataset/data_volumes/dataset/valid_fixed/valid_1/valid_1_a/"
                         "valid_1_a_1.nii.gz"}
    qa.write_text(json.dumps(row) + "\n")
    (qa.parent / "spatial_qa_filtered_full_with_categories.json").write_text(json.dumps(
        {row["case_id"]: {"qa_pairs": [{"question": row["question"], "answer": row["answer"],
                                        "category": ["Laterality & Bilateral Symmetry"]}]}}))
    start = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "kedro", "run", "--env", "full", "--pipelines", "benchmark",
         "--params", f"ct_rate_root=/nonexistent,ct_spatialvqa_qa={qa}"],
        cwd=root, capture_output=True, text=True, timeout=120)
    seconds = time.monotonic() - start
    assert done.returncode == 2, done.stderr[-2000:]
    last = (done.stdout + done.stderr).strip().splitlines()[-1]
    assert "ct_rate_root" in last and "/nonexistent" in last
    assert "Traceback" not in done.stderr
    assert not list((root / "data").rglob("*predictions*"))
    assert seconds < 30, seconds


def test_a_missing_categories_file_names_its_runtime_parameter(tmp_path):
    from ct_spatial_bench.datasets.ct_spatialvqa_dataset import CTSpatialVQADataset
    from ct_spatial_bench.preflight import check_companions

    dataset = CTSpatialVQADataset(filepath=str(tmp_path / "spatial_qa_filtered_full_nifti.jsonl"))
    with pytest.raises(ConfigurationError, match=r"spatial_qa_filtered_full_with_categories\.json "
                       r"does not exist; fix it with --params ct_spatialvqa_categories=<path>"):
        check_companions("qa_candidates", dataset.companion_files(),
                         {"qa_candidates.categories": "ct_spatialvqa_categories"})


def test_a_plan_before_the_qa_exists_says_how_judging_is_counted_then_counts_it():
    """Issue 25: `kedro run` on a fresh clone makes its QA, so the plan cannot count it; it must
    say so instead of '? per judge', and give the count once the QA exists."""
    plan = RunPlan("sanity", models=["blind", "geometry"], judges=["judge offline"])
    rendered = plan.render()
    assert "?" not in rendered
    assert ("answers to judge at most (before the cache): one per QA item and model (2 models) "
            "x 1 judge, counted once this run has made its QA") in rendered
    # 3 items on 2 volumes (valid_1 twice), 2 models, 1 judge: 3 x 2 = 6 answers
    qa = [{"image_path": f"valid_{n}/valid_{n}_a/valid_{n}_a_1.nii.gz"} for n in (1, 1, 2)]
    plan.count_qa(qa)
    assert plan.qa_made_line() == ("QA made by this run: 3 items on 2 volumes; answers to judge at "
                                   "most (before the cache): 6 per judge x 1 judge = 6")


def test_the_qa_count_is_said_once_when_the_run_saves_its_qa(capsys, caplog):
    """The hook: the plan printed before the first node, the count when benchmark_qa is saved."""
    import logging

    from kedro.pipeline import Pipeline, node

    from ct_spatial_bench.run_guards import PreflightHook

    hook = PreflightHook()
    hook._params = {"judging": {"judges": ["offline"]}}

    class Catalog(dict):
        def load(self, name):
            return self[name]

    made = Pipeline([node(lambda judging, blind: judging, ["params:judging",
                          "params:blind.inference"], "benchmark_qa", name="make_qa")])
    hook.before_pipeline_run({}, made, Catalog({"params:judging": {"judges": ["offline"]},
                                                "params:blind.inference": {"model": "blind"}}))
    assert "counted once this run has made its QA" in capsys.readouterr().out
    qa = [{"image_path": f"valid_{n}/valid_{n}_a/valid_{n}_a_1.nii.gz"} for n in (1, 2, 3, 3)]
    with caplog.at_level(logging.INFO, logger="ct_spatial_bench.console"):
        hook.after_dataset_saved("other", [])
        hook.after_dataset_saved("benchmark_qa", qa)
        hook.after_dataset_saved("benchmark_qa", qa)  # said once
    said = [r.getMessage() for r in caplog.records if r.name == "ct_spatial_bench.console"]
    # 4 items x 1 model (blind) x 1 judge
    assert said == [("QA made by this run: 4 items on 3 volumes; answers to judge at most (before "
                     "the cache): 4 per judge x 1 judge = 4")]
