"""What a run shows on the console: one line per finished stage, warnings and errors, and, when
the run reached reporting, the leaderboard and where the summary and the report are.

conf/logging.yml sends Kedro's INFO records (and this project's) to ``logs/info.log`` only; the
console gets WARNING and above, plus the records of the ``ct_spatial_bench.console`` logger,
which this module writes. ``kedro run --verbose`` (``show_full_log``) puts every INFO record back
on the console. Progress bars (tqdm) are drawn on a terminal only, never into a pipe or a SLURM
``.out`` file, where each redraw would be a new line: every bar passes ``disable=None`` (tqdm's
"only on a terminal") unless progress is switched off.
"""

from __future__ import annotations

import logging
import math
import time
from collections import Counter
from typing import Any

from kedro.framework.hooks import hook_impl

# The logger whose INFO records reach the console (conf/logging.yml: handler console_progress).
CONSOLE = logging.getLogger("ct_spatial_bench.console")
# The console's handlers in conf/logging.yml: warnings (root), and the progress lines.
WARNINGS_HANDLER, PROGRESS_HANDLER = "console", "console_progress"
# Loggers conf/logging.yml keeps off the console (the file only); --verbose shows them again.
FILE_ONLY = ("kedro.pipeline.node", "kedro.runner")
# Warnings about the results themselves (through the root handlers, once).
_LOG = logging.getLogger("ct_spatial_bench.results")


def show_full_log() -> None:
    """``--verbose``: every INFO record on the console again, as Kedro's default logging has it."""
    for handler in logging.getLogger().handlers:
        if handler.get_name() == WARNINGS_HANDLER:
            handler.setLevel(logging.INFO)
    for handler in CONSOLE.handlers:  # the progress lines now reach the console through the root
        if handler.get_name() == PROGRESS_HANDLER:
            handler.setLevel(logging.CRITICAL + 1)
    for name in FILE_ONLY:  # through the root's handlers (console and file) like the rest
        logger = logging.getLogger(name)
        logger.handlers, logger.propagate = [], True


def stage_of(node: Any) -> str:
    """The stage a node belongs to: its pipeline package, and the model for a namespaced one
    (``inference blind``), from where its function lives, not from its name."""
    module = getattr(node.func, "__module__", "") or ""
    parts = module.split(".")
    # a node whose function is domain code is named after its stage (probes.blind.answer_...)
    stage = (parts[parts.index("pipelines") + 1] if "pipelines" in parts[:-1]
             else node.name.split(".")[0])
    namespace = (node.namespace or "").split(".")[0]
    return f"{stage} {namespace}" if namespace and namespace != stage else stage


def _relative(location: str) -> str:
    """``location`` relative to the working folder where it lies below it (what to type)."""
    from pathlib import Path

    path = Path(location)
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _fraction(value: Any) -> str:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return "-"
    return "-" if math.isnan(number) else f"{number:.3f}"


def _count(row: dict, *columns: str) -> int:
    total = 0
    for column in columns:
        try:
            value = float(row.get(column))
        except (TypeError, ValueError):
            continue
        total += 0 if math.isnan(value) else int(value)
    return total


def leaderboard_lines(rows: list[dict]) -> list[str]:
    """The leaderboard as plain text: model, accuracy [95% CI], n (judged), failed (the jury
    could not decide) and errors (the model call failed), the last two outside the accuracy."""
    header = ("model", "accuracy [95% CI]", "n", "failed", "errors")
    table = [header]
    for row in rows:
        accuracy = _fraction(row.get("accuracy"))
        low, high = _fraction(row.get("accuracy_ci_low")), _fraction(row.get("accuracy_ci_high"))
        interval = f"[{low}, {high}]"
        table.append((str(row.get("model")), f"{accuracy} {interval}",
                      str(_count(row, "n_judged")), str(_count(row, "n_failed")),
                      str(_count(row, "n_errors"))))
    widths = [max(len(line[i]) for line in table) for i in range(len(header))]
    return ["  ".join(cell.ljust(width) if i == 0 else cell.rjust(width)
                      for i, (cell, width) in enumerate(zip(line, widths))).rstrip()
            for line in table]


class ConsoleProgressHook:
    """One console line per stage when its last node finishes; the results at the end."""

    def __init__(self) -> None:
        self._remaining: Counter = Counter()
        self._started: dict[str, float] = {}
        self._nodes: Counter = Counter()
        self._done: list[str] = []

    @hook_impl
    def before_pipeline_run(self, run_params: dict[str, Any], pipeline: Any, catalog: Any) -> None:
        self._nodes = Counter(stage_of(node) for node in pipeline.nodes)
        self._remaining = Counter(self._nodes)
        self._started, self._done = {}, []

    @hook_impl
    def before_node_run(self, node: Any) -> None:
        self._started.setdefault(stage_of(node), time.monotonic())

    @hook_impl
    def after_node_run(self, node: Any) -> None:
        stage = stage_of(node)
        self._remaining[stage] -= 1
        if self._remaining[stage] == 0:
            self._done.append(stage)
            seconds = time.monotonic() - self._started.get(stage, time.monotonic())
            nodes = self._nodes[stage]
            total = len(self._nodes)
            step = f"[{len(self._done)}/{total}]".rjust(2 * len(str(total)) + 3)
            CONSOLE.info("%s %-24s done %4d node%s %7.1f s", step, stage, nodes,
                         " " if nodes == 1 else "s", seconds)

    @hook_impl
    def after_pipeline_run(self, run_params: dict[str, Any], pipeline: Any, catalog: Any) -> None:
        if "leaderboard" not in pipeline.all_outputs():
            return
        from ct_spatial_bench.run_guards import dataset_location

        try:
            board = catalog.load("leaderboard")
        except Exception as error:  # noqa: BLE001 - the results line is a courtesy
            _LOG.warning("leaderboard not shown (%s)", error)
            return
        lines = leaderboard_lines(board.to_dict("records"))
        CONSOLE.info("\nJury accuracy (failed judgements and model errors are outside n):\n%s",
                     "\n".join(f"  {line}" for line in lines))
        for name, what in (("summary", "summary"), ("html_report", "report")):
            location = dataset_location(catalog.get(name)) if name in catalog else None
            if location:
                CONSOLE.info("%-8s %s", what + ":", _relative(location))
