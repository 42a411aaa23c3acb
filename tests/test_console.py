"""The console of a run: one line per stage, warnings, and the leaderboard with the report's path
at the end; Kedro's INFO log in logs/ only, unless --verbose."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from kedro.pipeline import node
from support.project import PROJECT_ROOT, make_scratch_project

from ct_spatial_bench.console import leaderboard_lines, stage_of


def _answer(questions):
    return questions


def test_stage_of_reads_the_pipeline_package_and_the_model_namespace():
    from ct_spatial_bench.pipelines.inference import nodes as inference_nodes
    from ct_spatial_bench.pipelines.reporting import nodes as reporting_nodes

    plain = node(reporting_nodes.build_leaderboard, ["a", "b"], "c", name="build_leaderboard")
    namespaced = node(inference_nodes.answer_questions, ["q", "p", "i", "b", "a"], "y",
                      name="answer", namespace="m3d")
    domain = node(_answer, "q", "r", name="probes.blind.answer_mirrored")
    assert stage_of(plain) == "reporting"
    assert stage_of(namespaced) == "inference m3d"
    assert stage_of(domain) == "probes"


def test_leaderboard_lines_show_accuracy_interval_n_and_the_counts_outside_it():
    rows = [{"model": "geometry", "accuracy": 1.0, "accuracy_ci_low": 1.0,
             "accuracy_ci_high": 1.0, "n_judged": 52, "n_failed": 0, "n_errors": 0},
            {"model": "blind", "accuracy": 0.48077, "accuracy_ci_low": 0.4038,
             "accuracy_ci_high": 0.5490, "n_judged": 50.0, "n_failed": 1, "n_errors": float("nan")},
            {"model": "m3d", "accuracy": float("nan"), "n_judged": 0, "n_failed": 0,
             "n_errors": 52}]
    assert leaderboard_lines(rows) == [
        "model        accuracy [95% CI]   n  failed  errors",
        "geometry  1.000 [1.000, 1.000]  52       0       0",
        "blind     0.481 [0.404, 0.549]  50       1       0",
        "m3d                   - [-, -]   0       0      52",
    ]


def _kedro(root, *args, timeout=600):
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT / "src")}
    env.pop("KEDRO_LOGGING_CONFIG", None)
    return subprocess.run([sys.executable, "-m", "kedro", "run", *args], cwd=root, env=env,
                          capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def scratch(tmp_path_factory):
    # no logs/ folder: a copy of the project without it logs all the same (settings.py makes it)
    return make_scratch_project(tmp_path_factory.mktemp("console"))


@pytest.mark.slow
def test_a_piped_run_shows_stages_and_ends_with_the_leaderboard_and_paths(scratch):
    done = _kedro(scratch, "--pipelines", "sanity_data,benchmark")
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.splitlines()
    # no Kedro INFO record, no redrawn bar in a pipe: every line is the project's own
    assert not [line for line in lines if "kedro." in line or "INFO" in line]
    assert "\r" not in done.stdout and "\r" not in done.stderr
    assert "Logging error" not in done.stderr
    assert "it/s]" not in done.stderr  # no progress bar of any library in a pipe
    assert any(line.split()[1:3] == ["reporting", "done"] for line in lines if line.strip())
    assert len(lines) < 40, done.stdout
    board = lines[lines.index(next(line for line in lines if "accuracy [95% CI]" in line)):]
    geometry = next(line for line in board if line.split()[0] == "geometry")
    assert geometry.split()[1:4] == ["1.000", "[1.000,", "1.000]"]
    # the README's "First results" block is this run's ending, line for line
    readme = (PROJECT_ROOT / "README.md").read_text()
    assert "\n".join(board) in readme, board
    assert lines[-2:] == ["summary: data/08_reporting/summary.md",
                          "report:  data/08_reporting/report.html"]
    log = (scratch / "logs" / "info.log").read_text()
    assert "kedro.runner" in log and "Loading data from" in log


@pytest.mark.slow
def test_verbose_puts_kedro_info_back_on_the_console(scratch):
    done = _kedro(scratch, "--pipelines", "sanity_data", "--verbose")
    assert done.returncode == 0, done.stderr[-3000:]
    assert "INFO kedro.runner" in done.stderr + done.stdout
    # the progress line appears once, not twice (root handler and the progress handler)
    console = done.stderr + done.stdout
    assert console.count("sanity_data") - console.count("sanity_data.") >= 1
    assert sum("[1/1] sanity_data" in line for line in console.splitlines()) == 1
