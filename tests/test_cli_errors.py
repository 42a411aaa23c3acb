"""Mistakes a user can fix end in one paragraph and exit status 2, never a traceback (issue 25)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from support.project import PROJECT_ROOT, make_scratch_project

from ct_spatial_bench.cli import _job_lines, short_errors
from ct_spatial_bench.cluster.slurm import Chain, Job, Resources, plan
from ct_spatial_bench.metrics.meteor import WordNetUnavailable


def _one_paragraph(text: str) -> str:
    assert "Traceback" not in text, text
    lines = [line for line in text.strip().splitlines() if line.strip()]
    assert len(lines) == 1, text
    return lines[0]


def test_a_missing_wordnet_is_one_paragraph_and_exit_2(capsys):
    with pytest.raises(SystemExit) as stopped, short_errors():
        try:
            raise WordNetUnavailable("no WordNet; sudo apt-get install wordnet-base")
        except WordNetUnavailable as error:  # wrapped, as Kedro's runner wraps node errors
            raise RuntimeError("node failed") from error
    assert stopped.value.code == 2
    assert _one_paragraph(capsys.readouterr().err).startswith("Stopped: no WordNet")


def test_no_chromium_is_one_paragraph_and_exit_2(tmp_path, monkeypatch, capsys):
    from ct_spatial_bench.reporting import browser

    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("CHROMIUM", raising=False)
    report = tmp_path / "report.html"
    report.write_text("<html></html>")
    assert browser.main([str(report)]) == 2
    line = _one_paragraph(capsys.readouterr().err)
    assert "no Chromium found" in line and "apt-get install chromium" in line


def test_the_dry_run_lists_only_what_it_leaves_out_and_exactly_what_it_writes():
    stages = {name: Resources() for name in
              ("qa", "preprocessing", "merge", "judging", "metrics", "reporting")}
    # the evaluation had finished, but a model is new: the evaluation runs again
    done = {"qa", "preprocessing", "reporting"}
    jobs = plan(Chain({"blind": Resources()}, (), 1, frozenset(done)), stages, None, [])
    paths = {job.name: Path(f"{i:02d}_{job.name}.sbatch") for i, job in enumerate(jobs)}
    lines = _job_lines(done, jobs, paths)
    assert lines[0] == "# finished, left out: preprocessing, qa"  # not reporting: it reruns
    assert lines[1] == ("# 4 jobs: 00_inference_blind.sbatch, 01_judging.sbatch, "
                        "02_metrics.sbatch, 03_reporting.sbatch")
    assert isinstance(jobs[0], Job)


def _kedro(root: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT / "src")}
    return subprocess.run([sys.executable, "-m", "kedro", *args], cwd=root, env=env,
                          capture_output=True, text=True, timeout=300)


def test_reproduce_without_upstreams_folder_names_the_command_and_the_manual_way(tmp_path):
    root = make_scratch_project(tmp_path)
    done = _kedro(root, "run", "--pipelines", "reproduce", "--params",
                  f"reproduce.source_dir={tmp_path / 'nowhere'}")
    assert done.returncode == 2, done.stderr[-2000:]
    line = _one_paragraph(done.stderr)
    assert "kedro run --pipelines fetch_upstream" in line
    assert "git clone https://github.com/Mashrafi27/CT-SpatialVQA" in line
    assert "reproduce.source_dir" in line


def test_slurm_submit_without_sbatch_is_one_paragraph_and_exit_2(tmp_path):
    root = make_scratch_project(tmp_path)
    assert _kedro(root, "run", "--pipelines", "sanity_data,qa_filtering").returncode == 0
    done = _kedro(root, "slurm", "submit", "--models", "blind", "--sbatch",
                  str(tmp_path / "no-sbatch"), "--out-dir", "slurm")
    assert done.returncode == 2, done.stderr[-2000:]
    assert "not on this machine's PATH" in _one_paragraph(done.stderr)
    assert not (root / "slurm").exists()  # nothing written before the stop
