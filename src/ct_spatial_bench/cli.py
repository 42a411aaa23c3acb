"""Project commands (Kedro loads ``<package>.cli``): ``kedro slurm submit``.

    kedro slurm submit --env full --models m3d,merlin --dry-run   # print the scripts
    kedro slurm submit --env full --models m3d,merlin             # write and submit them

``run`` is Kedro's own, re-exported because ``python -m ct_spatial_bench`` looks for it here.
"""

from __future__ import annotations

from pathlib import Path

import click
from kedro.framework.cli.project import run  # noqa: F401 - python -m ct_spatial_bench uses it


@click.group(name="ct_spatial_bench")
def cli() -> None:
    """Commands of the ct-spatial-bench project."""


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
@click.option("--preprocess/--no-preprocess", default=True, show_default=True)
@click.option("--evaluate/--no-evaluate", default=True, show_default=True,
              help="Chain judging, metrics and reporting after inference.")
@click.option("--sbatch", default="sbatch", show_default=True, help="The sbatch executable.")
@click.option("--dry-run", is_flag=True, help="Print the scripts and commands; submit nothing.")
def submit(env, models, runtime_params, out_dir, preprocess, evaluate, sbatch, dry_run) -> None:
    """Write sbatch scripts (a job array per model) and submit them chained by afterok."""
    from kedro.framework.cli.utils import split_string
    from kedro.framework.session import KedroSession
    from kedro.framework.startup import bootstrap_project

    from ct_spatial_bench.cluster import slurm as plan_slurm

    project_dir = Path.cwd().resolve()
    bootstrap_project(project_dir)
    extra = [p.strip() for p in split_string(None, None, runtime_params) if p.strip()]
    with KedroSession.create(project_path=project_dir, env=env,
                             runtime_params=_as_nested(extra)) as session:
        params = session.load_context().params
    cluster = params.get("cluster") or {}
    stage_resources = {name: plan_slurm.Resources.from_params(name, res)
                       for name, res in (cluster.get("resources") or {}).items()}
    names = [m.strip() for m in models.split(",") if m.strip()]
    missing = [m for m in names if not (params.get(m) or {}).get("resources")]
    if missing:
        raise click.UsageError(f"no <model>.resources block for {missing} in the parameters")
    model_resources = {m: plan_slurm.Resources.from_params(m, params[m]["resources"])
                       for m in names}
    jobs = plan_slurm.plan(model_resources, stage_resources, env, extra, preprocess, evaluate)
    out_dir = out_dir or Path(cluster.get("script_dir", "slurm"))
    paths = plan_slurm.write_scripts(
        jobs, out_dir, project_dir=project_dir,
        log_dir=project_dir / cluster.get("log_dir", "logs/slurm"),
        setup=list(cluster.get("setup") or []), prefix=cluster.get("job_prefix", "csb"))
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


def _as_nested(pairs: list[str]) -> dict:
    """``["a.b=1"]`` -> ``{"a": {"b": 1}}``, as ``kedro run --params`` reads them."""
    from omegaconf import OmegaConf

    bad = [pair for pair in pairs if "=" not in pair]
    if bad:
        raise click.UsageError(f"--params expects key=value, got {bad}")
    return OmegaConf.to_container(OmegaConf.from_dotlist(pairs))
