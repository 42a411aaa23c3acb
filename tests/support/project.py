"""Helpers for tests that run Kedro pipelines in a scratch copy of the project."""

from __future__ import annotations

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
# Upstream CT-SpatialVQA's public files, beside the checkout (or beside a folder above it, as
# for a git worktree under the checkout's parent); tests that read them skip without.
UPSTREAM_REFERENCE = next(
    (found for parent in PROJECT_ROOT.parents
     if (found := parent / "shared" / "reference" / "ct_spatialvqa").is_dir()),
    PROJECT_ROOT.parent / "shared" / "reference" / "ct_spatialvqa").resolve()


def make_scratch_project(root):
    """A copy of the project's pyproject and conf in ``root``, so a test's ``kedro run`` writes
    its data/ there and never into the checkout. The package itself is the installed one."""
    import shutil

    shutil.copy(PROJECT_ROOT / "pyproject.toml", root)
    shutil.copy(PROJECT_ROOT / ".telemetry", root)
    shutil.copytree(PROJECT_ROOT / "conf", root / "conf", ignore=shutil.ignore_patterns("local"))
    (root / "conf" / "local").mkdir()
    (root / "src").mkdir()  # Kedro checks the source folder exists
    return root


def run_sanity_then(root, pipeline: str) -> None:
    """``kedro run`` then ``kedro run --pipelines <pipeline>`` in the scratch project ``root``,
    working in ``root`` while the sessions run (as a user in that folder would)."""
    import pytest
    from kedro.framework.session import KedroSession
    from kedro.framework.startup import bootstrap_project

    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(root)
        bootstrap_project(root)
        with KedroSession.create(project_path=root) as session:
            session.run()
        with KedroSession.create(project_path=root) as session:
            session.run(pipeline_names=[pipeline])
