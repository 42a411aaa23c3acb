"""Every command of the README quick start and of the rehearsal walk (docs/full-split.md) runs as
written after the quick start, read from the pages themselves.

How each command is treated:
- ``kedro ...`` / ``.venv/bin/kedro ...``: run for real in a scratch copy of the project, with the
  kedro of the environment running these tests (CI's is the quick start's .venv). The quick
  start's ``kedro run`` is the session fixture ``quick_start_run`` that tests/test_sanity_run.py
  reads too, so it runs once per session.
- ``python3 -m venv .venv`` and ``.venv/bin/pip install ...``: never run (no network, minutes);
  instead every requirement they name must be what this environment has: each pinned or
  declared requirement of the project and of the extras named is installed at a version it
  allows, and the extras exist in pyproject.toml.
- ``source .venv/bin/activate``: the venv's bin/ first on PATH for the commands after it.
- ``.venv/bin/python -m pytest``: this suite itself; not run again from inside it, but it must be
  the line CI runs (.ci/run), so CI proves it.
Any other command fails the first test: a new kind of command needs a rule here.
"""

from __future__ import annotations

import re
import sys
from importlib import metadata
from pathlib import Path

import pytest
from support.doc_commands import (
    ACTIVATE,
    first_results_block,
    quick_start_lines,
    rehearsal_walk,
    run_kedro,
    steps,
)
from support.project import PROJECT_ROOT, make_scratch_project

INSTALL, RUN, SETUP, SUITE = "install", "run", "setup", "suite"


def _kind(step: list[str]) -> str:
    if step[:3] == ["python3", "-m", "venv"] or step[:1] == ["source"]:
        return SETUP
    if step[0] == ".venv/bin/pip" and step[1] == "install":
        return INSTALL
    if step[0] in ("kedro", ".venv/bin/kedro"):
        return RUN
    if step == [".venv/bin/python", "-m", "pytest"]:
        return SUITE
    return "unknown"


def test_every_quick_start_command_has_a_rule():
    kinds = [_kind(step) for line in quick_start_lines() for step in steps(line)]
    assert "unknown" not in kinds, quick_start_lines()
    assert kinds.count(RUN) == 1 and kinds.count(SUITE) == 1
    assert ACTIVATE in quick_start_lines()  # once, so that the docs' bare kedro is the venv's
    assert all(_kind(step) == RUN for step in rehearsal_walk())


def _pyproject() -> dict:
    import tomllib  # python 3.11+; the suite's CI runs 3.11

    return tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def _unmet(requirement: str, extras: set[str]) -> str | None:
    from packaging.requirements import Requirement

    req = Requirement(requirement)
    if req.marker and not any(req.marker.evaluate({"extra": e}) for e in extras | {""}):
        return None
    try:
        version = metadata.version(req.name)
    except metadata.PackageNotFoundError:
        return f"{req} is not installed"
    if req.specifier and not req.specifier.contains(version, prereleases=True):
        return f"{req}: {version} is installed"
    return None


@pytest.mark.skipif(sys.version_info < (3, 11), reason="tomllib")
def test_the_install_lines_name_what_this_environment_has():
    project = _pyproject()["project"]
    optional = project.get("optional-dependencies") or {}
    installs = [step for line in quick_start_lines() for step in steps(line)
                if _kind(step) == INSTALL]
    assert installs
    for step in installs:
        args = step[2:]
        editable = [args[i + 1] for i, a in enumerate(args) if a == "-e"]
        assert editable and all(re.fullmatch(r"\.(\[[\w,]+\])?", e) for e in editable), step
        extras = {x for e in editable for x in re.findall(r"[\w]+", e.partition("[")[2])}
        assert extras <= set(optional), f"{step}: extras {extras - set(optional)} not declared"
        assert metadata.version(project["name"]), "the project itself is not installed"
        named = [a for i, a in enumerate(args) if not a.startswith("-") and args[i - 1] != "-e"]
        wanted = [*named, *project["dependencies"], *(r for x in extras for r in optional[x])]
        unmet = [problem for r in wanted if (problem := _unmet(r, extras))]
        assert unmet == [], step


def test_the_readme_test_command_is_the_line_ci_runs():
    (line,) = [line for line in quick_start_lines()
               if any(_kind(step) == SUITE for step in steps(line))]
    ci = (PROJECT_ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert line in ci


def _readme_leaderboard() -> dict[str, int]:
    """model -> n, as the README's First results block prints them."""
    return {m[1]: int(m[2]) for line in first_results_block()
            if (m := re.match(r"\s+(\w+)\s+[\d.]+ \[[\d.]+, [\d.]+\]\s+(\d+)\s", line))}


@pytest.mark.slow
def test_the_quick_start_run_ends_as_the_readme_shows_and_says_nothing_else(quick_start_run):
    _, done = quick_start_run
    lines = done.stdout.rstrip("\n").splitlines()
    shown = first_results_block()
    assert lines[-len(shown):] == shown
    # issue 25's blemishes: no Python warning on the console (numpy's "All-NaN slice" after
    # mask_qa was one), and no "?" where the plan could not count the QA it makes
    assert not re.search(r"\w+Warning: ", done.stderr), done.stderr[-3000:]
    plan = lines[:lines.index(next(line for line in lines if line.lstrip().startswith("[1/")))]
    assert "?" not in "\n".join(plan)
    # the count once the QA exists: the README's n per model (every item is judged on the
    # sanity split), times its models, for the one (offline) judge the sanity split has
    board = _readme_leaderboard()
    items = set(board.values())
    assert len(items) == 1 and len(board) == 2
    answers = items.pop() * len(board)
    made = [line for line in lines if line.startswith("QA made by this run:")]
    assert len(made) == 1 and made[0].endswith(
        f"answers to judge at most (before the cache): {answers} per judge x 1 judge = {answers}")


@pytest.mark.slow
def test_the_rehearsal_walk_runs_as_written_and_ends_with_a_report(tmp_path):
    """docs/full-split.md's walk: each command exits 0, the last ends with the report the page
    names (data/full/08_reporting/)."""
    root = make_scratch_project(tmp_path)
    walk = rehearsal_walk()
    assert len(walk) >= 4
    for step in walk:
        done = run_kedro(root, step)
        assert done.returncode == 0, f"{' '.join(step)}\n{done.stdout[-3000:]}{done.stderr[-3000:]}"
    assert done.stdout.rstrip("\n").splitlines()[-1] == "report:  data/full/08_reporting/report.html"
    assert (Path(root) / "data/full/08_reporting/report.html").stat().st_size > 0
