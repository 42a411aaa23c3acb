"""The commands the docs tell a user to type, read from the pages as written, and how a test
runs them: the venv's own ``kedro`` (the interpreter running the tests, its ``bin/``) where the
page says ``.venv/bin/kedro``, or a bare ``kedro`` after ``source .venv/bin/activate``."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

from support.project import PROJECT_ROOT

README = PROJECT_ROOT / "README.md"
FULL_SPLIT = PROJECT_ROOT / "docs" / "full-split.md"
ACTIVATE = "source .venv/bin/activate"


def bash_commands(text: str) -> list[str]:
    """Shell lines of the ```bash blocks, continuation lines joined, comment lines left out."""
    lines = []
    for block in re.findall(r"```bash\n(.*?)```", text, flags=re.S):
        for line in block.replace("\\\n", " ").splitlines():
            line = line.strip()
            if line and not line.startswith("#"):
                lines.append(line)
    return lines


def section(text: str, heading: str) -> str:
    """The part of a Markdown page under ``heading`` (e.g. ``## Quick start``), to the next
    heading of the same or a higher level."""
    level = len(heading) - len(heading.lstrip("#"))
    start = text.index(f"\n{heading}\n") + 1
    following = re.compile(rf"^#{{1,{level}}} ", flags=re.M)
    end = following.search(text, start + len(heading))
    return text[start:end.start() if end else len(text)]


def steps(line: str) -> list[list[str]]:
    """A shell line as its ``&&``-joined steps, each split as the shell would (comments off)."""
    out: list[list[str]] = [[]]
    for word in shlex.split(line, comments=True):
        if word == "&&":
            out.append([])
        else:
            out[-1].append(word)
    return [step for step in out if step]


def quick_start_lines() -> list[str]:
    """The README quick start's command lines (both blocks: the run, then the tests)."""
    return bash_commands(section(README.read_text(encoding="utf-8"), "## Quick start"))


def first_results_block() -> list[str]:
    """What the README says the quick start's ``kedro run`` ends with (its ```text block)."""
    text = section(README.read_text(encoding="utf-8"), "## First results")
    return re.search(r"```text\n(.*?)```", text, flags=re.S)[1].splitlines()


def rehearsal_walk() -> list[list[str]]:
    """The rehearsal walk of docs/full-split.md as written: ``kedro run --pipelines
    rehearsal_data``, then every ``kedro`` command of the page's first section with the
    paragraph's ``--params`` in place of the command's own (or added where it has none)."""
    page = FULL_SPLIT.read_text(encoding="utf-8")
    first = page[:page.index("\n## ")]
    paragraph = " ".join(first[first.index("**Rehearsal on a laptop.**"):].split())
    make_tree = re.search(r"`(kedro run --pipelines rehearsal_data)`", paragraph)[1]
    params = re.search(r"runs as written with `--params (\S+)`", paragraph)[1]
    walk = [shlex.split(make_tree)]
    for line in bash_commands(first):
        for step in steps(line):
            if step[0] != "kedro":
                continue
            if "--params" in step:
                step[step.index("--params") + 1] = params
            else:
                step += ["--params", params]
            walk.append(step)
    return walk


def venv_bin() -> Path:
    """The ``bin/`` of the environment running the tests (CI: the quick start's .venv)."""
    return Path(sys.executable).parent


def kedro_argv(step: list[str]) -> list[str]:
    """``.venv/bin/kedro ...`` or ``kedro ...`` as this environment's kedro; its console
    script where it has one, else ``python -m kedro``."""
    program = step[0]
    assert program in ("kedro", ".venv/bin/kedro"), step
    script = venv_bin() / "kedro"
    runner = [str(script)] if script.exists() else [sys.executable, "-m", "kedro"]
    return [*runner, *step[1:]]


def run_kedro(root: Path, step: list[str], timeout: int = 900) -> subprocess.CompletedProcess:
    """Run one docs ``kedro`` command in the scratch project ``root`` with this checkout's
    package first on the path (as the editable install of a clone has it)."""
    # no judge's key: a docs walk must never spend money (the offline fallback judges)
    env = {key: value for key, value in os.environ.items()
           if not key.startswith("SLURM_") and key not in (
               "KEDRO_LOGGING_CONFIG", "OPENAI_API_KEY", "GEMINI_API_KEY", "DASHSCOPE_API_KEY")}
    env["PYTHONPATH"] = str(PROJECT_ROOT / "src")
    env["PATH"] = f"{venv_bin()}{os.pathsep}{env.get('PATH', '')}"  # source .venv/bin/activate
    return subprocess.run(kedro_argv(step), cwd=root, env=env, capture_output=True, text=True,
                          timeout=timeout)
