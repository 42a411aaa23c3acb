"""Project commands (Kedro loads ``<package>.cli``): ``kedro slurm submit``.

    kedro slurm submit --env full --models m3d,merlin --dry-run   # print the scripts
    kedro slurm submit --env full --models m3d,merlin             # write and submit them

``run`` is Kedro's own with one difference: an expected configuration error (``errors.py``) ends
the command with its one-paragraph message and exit status 2, and a planned stop (a dry run) with
exit 0, instead of a traceback through Kedro's internals. ``--verbose`` (or CSB_TRACEBACK=1)
keeps the traceback, and shows Kedro's INFO log on the console (console.py).
"""

from __future__ import annotations

import functools
import os
import shutil
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
from kedro.framework.cli.project import run as kedro_run

from ct_spatial_bench.errors import ConfigurationError, PlannedStop


def _expected(error: BaseException) -> BaseException | None:
    """The ConfigurationError or PlannedStop behind ``error`` (Kedro may wrap it), if any."""
    seen = set()
    while error is not None and id(error) not in seen:
        if isinstance(error, (ConfigurationError, PlannedStop)):
            return error
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return None


@contextmanager
def short_errors(verbose: bool = False) -> Iterator[None]:
    """Expected errors end the command with their message alone; bugs keep their traceback."""
    try:
        yield
    except Exception as error:  # noqa: BLE001 - re-raised unless it is an expected one
        expected = _expected(error)
        if expected is None or verbose or os.environ.get("CSB_TRACEBACK"):
            raise
        planned = isinstance(expected, PlannedStop)
        click.echo(("" if planned else "Stopped: ") + " ".join(str(expected).split()),
                   err=not planned)
        sys.exit(0 if planned else 2)


def _with_short_errors(command: click.Command) -> click.Command:
    callback: Callable[..., Any] = command.callback

    @functools.wraps(callback)
    def wrapped(*args: Any, verbose: bool = False, **kwargs: Any) -> Any:
        if verbose:
            from ct_spatial_bench.console import show_full_log

            show_full_log()
        with short_errors(verbose):
            return callback(*args, **kwargs)

    verbose = click.Option(["--verbose"], is_flag=True,
                           help="Show Kedro's full log on the console (it always goes to "
                                "logs/info.log) and the traceback of a configuration error.")
    return click.Command(name=command.name, callback=wrapped, params=[*command.params, verbose],
                         help=command.help, short_help=command.short_help)


@click.group(name="ct_spatial_bench")
def cli() -> None:
    """Commands of the ct-spatial-bench project."""


run = _with_short_errors(kedro_run)  # python -m ct_spatial_bench finds it here too
cli.add_command(run)


@cli.group()
def slurm() -> None:
    """Run the benchmark on a SLURM cluster."""


@slurm.command()
@click.option("--env", "-e", default=None, help="Kedro environment, e.g. full.")
@click.option("--models", default="blind,geometry", show_default=True,
              help="Comma-separated models; each needs a <model>.resources block.")
@click.option("--params", "runtime_params", default="",
              help="Runtime parameters passed to every job, as for kedro run (key=value,...).")
@click.option("--out-dir", type=click.Path(path_type=Path), default=None,
              help="Where the scripts go (default: cluster.script_dir).")
@click.option("--evaluate/--no-evaluate", default=True, show_default=True,
              help="Chain judging, metrics and reporting after inference.")
@click.option("--sbatch", default="sbatch", show_default=True, help="The sbatch executable.")
@click.option("--dry-run", is_flag=True, help="Print the scripts and commands; submit nothing.")
@click.option("--verbose", is_flag=True, help="Show the traceback of a configuration error too.")
def submit(env, models, runtime_params, out_dir, evaluate, sbatch, dry_run, verbose) -> None:
    """Check the run (preflight), write sbatch scripts for what is unfinished and submit them
    chained by afterok: QA -> preprocessing array -> inference arrays -> merge -> evaluation."""
    with short_errors(verbose):
        _submit(env, models, runtime_params, out_dir, evaluate, sbatch, dry_run)


def _submit(env, models, runtime_params, out_dir, evaluate, sbatch, dry_run) -> None:
    from kedro.framework.cli.utils import split_string
    from kedro.framework.project import pipelines
    from kedro.framework.session import KedroSession
    from kedro.framework.startup import bootstrap_project
    from kedro.pipeline import Pipeline

    from ct_spatial_bench.cluster import progress
    from ct_spatial_bench.cluster import slurm as plan_slurm
    from ct_spatial_bench.models.registry import MODEL_REGISTRY
    from ct_spatial_bench.run_guards import preflight, run_globals

    project_dir = Path.cwd().resolve()
    bootstrap_project(project_dir)
    extra = [p.strip() for p in split_string(None, None, runtime_params) if p.strip()]
    names = [m.strip() for m in models.split(",") if m.strip()]
    unknown = [m for m in names if m not in MODEL_REGISTRY]
    if unknown:
        raise ConfigurationError(f"--models: unknown model(s) {unknown}; registered: "
                                 f"{sorted(MODEL_REGISTRY)}")
    with KedroSession.create(project_path=project_dir, env=env,
                             runtime_params=_as_nested(extra)) as session:
        context = session.load_context()
        params, catalog = context.params, context.catalog
        stages = ["qa_filtering", "preprocessing", *(f"inference_{m}" for m in names)]
        chain_pipeline = sum((pipelines[p] for p in stages), Pipeline([]))
        if evaluate:
            chain_pipeline += pipelines["judging"] + pipelines["metrics"] + pipelines["reporting"]
        click.echo(preflight(params, chain_pipeline, catalog, run_globals(context)["split"])
                   .render())
        cluster = params.get("cluster") or {}
        stage_resources = {name: plan_slurm.Resources.from_params(name, res)
                           for name, res in (cluster.get("resources") or {}).items()}
        missing = [m for m in names if not (params.get(m) or {}).get("resources")]
        if missing:
            raise ConfigurationError(f"no <model>.resources block for {missing} in the "
                                     "parameters (conf/<env>/parameters_inference.yml)")
        model_resources = {m: plan_slurm.Resources.from_params(m, params[m]["resources"])
                           for m in names}
        specs = tuple(sorted({MODEL_REGISTRY[m].input_spec for m in names
                              if MODEL_REGISTRY[m].input_spec}))
        done, done_shards = progress.finished(
            catalog, params, {m: r.num_shards for m, r in model_resources.items()}, specs)
    chain = plan_slurm.Chain(model_resources, specs, stage_resources["preprocessing"].num_shards,
                             frozenset(done), done_shards)
    jobs = plan_slurm.plan(chain, stage_resources, env, extra, python=sys.executable,
                           evaluate=evaluate)
    if not jobs:
        click.echo("Nothing to submit: every job of this chain has finished.")
        return
    if not dry_run and shutil.which(sbatch) is None:
        raise ConfigurationError(
            f"`{sbatch}` is not on this machine's PATH, so nothing can be submitted: run "
            "`kedro slurm submit` on the cluster's login node (where sbatch is), name the "
            "executable with --sbatch /path/to/sbatch, or add --dry-run to write and print the "
            "scripts without submitting them.")
    out_dir = out_dir or Path(cluster.get("script_dir", "slurm"))
    paths = plan_slurm.write_scripts(
        jobs, out_dir, project_dir=project_dir,
        log_dir=project_dir / cluster.get("log_dir", "logs/slurm"),
        setup=_setup_lines(cluster.get("setup")), prefix=cluster.get("job_prefix", "csb"))
    for line in _job_lines(done, jobs, paths):
        click.echo(line)
    if dry_run:
        placeholders = {job.name: f"$JOB_{job.name.upper()}" for job in jobs}
        for job in jobs:
            click.echo(f"# ---- {paths[job.name]}")
            click.echo(paths[job.name].read_text())
            args = plan_slurm.sbatch_args(job, placeholders)
            args[0] = sbatch
            click.echo(f"# JOB_{job.name.upper()}=$({' '.join(args)} {paths[job.name]})\n")
        return
    (project_dir / cluster.get("log_dir", "logs/slurm")).mkdir(parents=True, exist_ok=True)
    ids = plan_slurm.submit(jobs, paths, sbatch)
    for job in jobs:
        click.echo(f"{ids[job.name]}\t{job.name}\t{paths[job.name]}")


def _job_lines(done: set[str], jobs: list, paths: dict[str, Path]) -> list[str]:
    """What is left out as finished (only what is not rerun: new predictions rerun a finished
    evaluation) and exactly the scripts written."""
    left_out = sorted(set(done) - {job.name for job in jobs})
    lines = [f"# finished, left out: {', '.join(left_out)}"] if left_out else []
    return lines + [f"# {len(jobs)} job{'' if len(jobs) == 1 else 's'}: "
                    + ", ".join(paths[job.name].name for job in jobs)]


def _setup_lines(setup: list[str] | None) -> list[str]:
    """``cluster.setup``, or (null) activating the environment that runs this command."""
    if setup is not None:
        return list(setup)
    activate = Path(sys.executable).parent / "activate"
    return [f"source {activate}"] if activate.is_file() else []


def _as_nested(pairs: list[str]) -> dict:
    """``["a.b=1"]`` -> ``{"a": {"b": 1}}``, as ``kedro run --params`` reads them."""
    from omegaconf import OmegaConf

    bad = [pair for pair in pairs if "=" not in pair]
    if bad:
        raise click.UsageError(f"--params expects key=value, got {bad}")
    return OmegaConf.to_container(OmegaConf.from_dotlist(pairs))
