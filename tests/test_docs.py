"""The docs match the run: the site builds strictly, every page that says bare `kedro` says once
how to get it, every pipeline a command names exists, and the README stays a short front page
(test_docs_commands.py runs the commands themselves)."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys

import pytest
from support.doc_commands import ACTIVATE, README, bash_commands
from support.project import PROJECT_ROOT

PAGES = sorted((PROJECT_ROOT / "docs").glob("*.md"))
README_MAX_LINES = 150  # issue 25: the front page had grown to 514 lines


def test_every_page_with_a_bare_kedro_says_how_to_get_it():
    for path in [README, *PAGES]:
        text = path.read_text(encoding="utf-8")
        bare = [c for c in bash_commands(text) if re.match(r"(kedro|mkdocs)\b", c)]
        if bare:
            assert ACTIVATE in text or "quick start" in text.lower(), (path.name, bare[:2])


def test_every_pipeline_the_docs_run_exists():
    from kedro.framework.project import pipelines
    from kedro.framework.startup import bootstrap_project

    bootstrap_project(PROJECT_ROOT)
    named = set()
    for path in [README, *PAGES]:
        for command in bash_commands(path.read_text(encoding="utf-8")):
            for found in re.findall(r"--pipelines[ =]([\w,<>]+)", command):
                named.update(n for n in found.split(",") if "<" not in n)
    assert {"fetch_upstream", "reproduce", "benchmark"} <= named
    assert sorted(named - set(pipelines)) == []


@pytest.mark.skipif(importlib.util.find_spec("mkdocs") is None,
                    reason="mkdocs not installed (pip install -e '.[docs]')")
def test_the_site_builds_strictly(tmp_path):
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir",
                           str(tmp_path / "site")], cwd=PROJECT_ROOT, capture_output=True,
                          text=True, timeout=300, env={"NO_MKDOCS_2_WARNING": "1",
                                                      "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr[-3000:]
    assert (tmp_path / "site" / "reproducing" / "index.html").is_file()


def test_the_readme_stays_a_short_front_page():
    """What it measures, the two commands, the first results, where to go next; the rest lives
    in docs/ (issue 25 found a 514-line README mixing the quick start with internals)."""
    text = README.read_text(encoding="utf-8")
    assert len(text.splitlines()) < README_MAX_LINES
    headings = re.findall(r"^## (.+)$", text, flags=re.M)
    assert {"Quick start", "First results", "Where to go next"} <= set(headings)
