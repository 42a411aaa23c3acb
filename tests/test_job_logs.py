"""Under SLURM every job logs to its own file, named as its .out file (sbatch's filename patterns
%x-%j and, for an array task, %x-%A_%a), beside where conf/logging.yml puts logs/info.log."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import yaml
from support.project import PROJECT_ROOT, make_scratch_project

from ct_spatial_bench.job_logs import job_label, per_job_logging

ARRAY_TASK = {"SLURM_JOB_ID": "4245", "SLURM_JOB_NAME": "csb-inference_m3d",
              "SLURM_ARRAY_JOB_ID": "4242", "SLURM_ARRAY_TASK_ID": "3"}


def test_the_job_label_is_sbatchs_x_j_or_x_a_a():
    assert job_label({}) is None
    assert job_label({"SLURM_JOB_ID": "17", "SLURM_JOB_NAME": "csb-judging"}) == "csb-judging-17"
    assert job_label(ARRAY_TASK) == "csb-inference_m3d-4242_3"
    assert job_label({"SLURM_JOB_ID": "9"}) == "job-9"  # salloc without a name
    assert job_label({"SLURM_JOB_ID": "9", "SLURM_JOB_NAME": "my run/2"}) == "my_run_2-9"


def test_the_projects_logging_gets_the_jobs_file_and_nothing_else_changes():
    config = yaml.safe_load((PROJECT_ROOT / "conf" / "logging.yml").read_text())
    assert per_job_logging(config, {}) is None  # outside SLURM: as written
    job = per_job_logging(config, ARRAY_TASK)
    assert job["handlers"]["info_file"]["filename"] == "logs/csb-inference_m3d-4242_3.log"
    assert config["handlers"]["info_file"]["filename"] == "logs/info.log"  # not edited in place
    job["handlers"]["info_file"]["filename"] = "logs/info.log"
    assert job == config


def test_several_file_handlers_keep_their_names_after_the_job():
    config = {"version": 1, "handlers": {
        "info": {"class": "logging.FileHandler", "filename": "logs/info.log"},
        "errors": {"class": "logging.FileHandler", "filename": "/var/log/csb/errors.txt"},
        "console": {"class": "logging.StreamHandler"}}}
    job = per_job_logging(config, {"SLURM_JOB_ID": "17", "SLURM_JOB_NAME": "csb-judging"})
    assert job["handlers"]["info"]["filename"] == "logs/csb-judging-17.info.log"
    assert job["handlers"]["errors"]["filename"] == "/var/log/csb/csb-judging-17.errors.txt"
    assert "filename" not in job["handlers"]["console"]


@pytest.mark.slow
def test_two_array_tasks_of_a_kedro_run_write_two_logs_and_no_shared_one(tmp_path):
    """Two tasks of one array, run as SLURM would start them (its variables set), each with a
    small `kedro run`: each task's INFO records are in its own file, none in logs/info.log."""
    root = make_scratch_project(tmp_path)
    env = {key: value for key, value in os.environ.items()
           if not key.startswith("SLURM_") and key != "KEDRO_LOGGING_CONFIG"}
    env["PYTHONPATH"] = str(PROJECT_ROOT / "src")
    for task, job_id in (("0", "78"), ("1", "79")):
        slurm = {"SLURM_JOB_ID": job_id, "SLURM_JOB_NAME": "csb-sanity",
                 "SLURM_ARRAY_JOB_ID": "77", "SLURM_ARRAY_TASK_ID": task}
        done = subprocess.run(
            [sys.executable, "-m", "kedro", "run", "--pipelines", "sanity_data", "--params",
             "sanity_data.n_cases=3,sanity_answer_prior.n_cases=1"],
            cwd=root, env={**env, **slurm}, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr[-3000:]
    logs = root / "logs"
    assert sorted(p.name for p in logs.iterdir()) == ["csb-sanity-77_0.log", "csb-sanity-77_1.log"]
    for name in ("csb-sanity-77_0.log", "csb-sanity-77_1.log"):
        text = (logs / name).read_text()
        assert text.count("Pipeline execution completed successfully") == 1, name
