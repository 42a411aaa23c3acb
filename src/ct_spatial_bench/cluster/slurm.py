"""SLURM job scripts for the full benchmark, chained by ``afterok`` dependencies.

The plan: the QA set (``qa_filtering``) -> preprocessing of only the input specs the selected
models read, as an array over volume shards -> one job array per model (shard i of N per array
task, the GPU, memory and time its ``<model>.resources`` ask for) -> ``merge_<model>`` once its
array is done -> judging -> metrics -> reporting. A model with one shard runs unsharded and needs
no merge. Every job is a plain ``kedro run`` in the project folder, so a failed job can be rerun
by hand (its checkpoint resumes it); a resubmission leaves out what is finished (``done``) and
runs only the array tasks whose part is missing.
"""

from __future__ import annotations

import re
import shlex
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_TIME = re.compile(r"^(\d+-)?\d{1,2}(:\d{2}){0,2}$")
_MEM = re.compile(r"^\d+[KMGT]?$")


@dataclass(frozen=True)
class Resources:
    """What one job (or one array task) asks SLURM for."""

    gpus: int = 0
    gpu_type: str | None = None  # e.g. a100: --gres=gpu:a100:1
    cpus: int = 4
    mem: str = "16G"
    time: str = "04:00:00"
    partition: str | None = None
    num_shards: int = 1  # array tasks of a model's inference
    max_parallel: int | None = None  # --array=0-7%2: at most two tasks at once
    extra: tuple[str, ...] = ()  # more #SBATCH options, e.g. "--account=abc", "--qos=long"

    @classmethod
    def from_params(cls, what: str, params: dict[str, Any] | None) -> Resources:
        params = dict(params or {})
        unknown = sorted(set(params) - set(cls.__dataclass_fields__))
        if unknown:
            raise ValueError(f"resources of {what}: unknown field(s) {unknown}")
        params["extra"] = tuple(params.get("extra") or ())
        resources = cls(**params)
        if not _TIME.match(str(resources.time)):
            raise ValueError(f"resources of {what}: time {resources.time!r} is not D-HH:MM:SS")
        if not _MEM.match(str(resources.mem)):
            raise ValueError(f"resources of {what}: mem {resources.mem!r} is not like 64G")
        if resources.num_shards < 1 or resources.gpus < 0 or resources.cpus < 1:
            raise ValueError(f"resources of {what}: num_shards and cpus >= 1, gpus >= 0")
        return resources

    def directives(self) -> list[str]:
        lines = [f"--cpus-per-task={self.cpus}", f"--mem={self.mem}", f"--time={self.time}"]
        if self.gpus:
            kind = f"{self.gpu_type}:" if self.gpu_type else ""
            lines.append(f"--gres=gpu:{kind}{self.gpus}")
        if self.partition:
            lines.append(f"--partition={self.partition}")
        return lines + list(self.extra)


@dataclass
class Job:
    name: str
    command: str
    resources: Resources
    after: list[str] = field(default_factory=list)  # names of jobs that must succeed first
    array: int | None = None  # array tasks 0..array-1
    tasks: tuple[int, ...] | None = None  # the array indices to run (None: all of them)

    def array_spec(self) -> str:
        """``0-7`` for a whole array, ``2,5`` for the tasks a resubmission still needs."""
        indices = self.tasks if self.tasks is not None else range(self.array or 0)
        if list(indices) == list(range(self.array or 0)):
            return f"0-{self.array - 1}"
        return ",".join(str(i) for i in indices)


def kedro_command(env: str | None, pipeline: str, params: list[str],
                  python: str = "python") -> str:
    words = [python, "-m", "kedro", "run", "--pipelines", pipeline]
    if env:
        words[4:4] = ["--env", env]
    command = " ".join(shlex.quote(w) for w in words)
    if params:  # double quotes, so ${SLURM_ARRAY_TASK_ID} expands
        command += ' --params "' + ",".join(params) + '"'
    return command


@dataclass(frozen=True)
class Chain:
    """What one submission covers: the models with their resources, the input specs they read,
    and what is already finished (job names, or ``inference_<model>`` array indices)."""

    models: dict[str, Resources]
    specs: tuple[str, ...] = ()
    preprocess_shards: int = 1
    done: frozenset[str] = frozenset()
    done_shards: dict[str, frozenset[int]] = field(default_factory=dict)


def plan(chain: Chain, stage_resources: dict[str, Resources], env: str | None,
         params: list[str], python: str = "python", evaluate: bool = True) -> list[Job]:
    """The jobs of one benchmark run, in submission order, less what ``chain.done`` holds."""
    jobs: list[Job] = []

    def add(job: Job) -> None:
        known = {j.name for j in jobs}
        job.after = [name for name in job.after if name in known]  # a finished parent: no wait
        jobs.append(job)

    if "qa" not in chain.done:
        add(Job("qa", kedro_command(env, "qa_filtering", params, python), stage_resources["qa"]))
    if chain.specs and "preprocessing" not in chain.done:
        n = chain.preprocess_shards
        share = [f"preprocessing.only_specs={'+'.join(chain.specs)}"]
        if n > 1:
            share += ["preprocessing.shard_index=${SLURM_ARRAY_TASK_ID}",
                      f"preprocessing.num_shards={n}"]
        add(Job("preprocessing", kedro_command(env, "preprocessing", share + params, python),
                stage_resources["preprocessing"], ["qa"], array=n if n > 1 else None))
    ready = []
    for model, res in chain.models.items():
        name, merge = f"inference_{model}", f"merge_{model}"
        if merge in chain.done or (res.num_shards == 1 and name in chain.done):
            continue
        if res.num_shards == 1:
            add(Job(name, kedro_command(env, name, params, python), res, ["qa", "preprocessing"]))
            ready.append(name)
            continue
        todo = sorted(set(range(res.num_shards)) - chain.done_shards.get(model, frozenset()))
        if todo:
            shard = [f"{model}.inference.shard_index=${{SLURM_ARRAY_TASK_ID}}",
                     f"{model}.inference.num_shards={res.num_shards}"]
            add(Job(name, kedro_command(env, name, shard + params, python), res,
                    ["qa", "preprocessing"], array=res.num_shards, tasks=tuple(todo)))
        add(Job(merge, kedro_command(env, merge, params, python), stage_resources["merge"],
                [name]))
        ready.append(merge)
    if evaluate and (jobs or "reporting" not in chain.done):
        previous = ready or ["qa"]
        for stage in ("judging", "metrics", "reporting"):
            add(Job(stage, kedro_command(env, stage, params, python), stage_resources[stage],
                    previous))
            previous = [stage]
    return jobs


def script(job: Job, project_dir: Path, log_dir: Path, setup: list[str],
           prefix: str = "csb") -> str:
    """The sbatch script of ``job``: #SBATCH directives, then the project's kedro command."""
    res = job.resources
    lines = ["#!/bin/bash", f"#SBATCH --job-name={prefix}-{job.name}"]
    if job.array:
        limit = f"%{res.max_parallel}" if res.max_parallel else ""
        lines.append(f"#SBATCH --array={job.array_spec()}{limit}")
    pattern = "%x-%A_%a.out" if job.array else "%x-%j.out"
    lines += [f"#SBATCH {d}" for d in res.directives()]
    lines += [f"#SBATCH --output={log_dir / pattern}", "", "set -euo pipefail",
              f"cd {shlex.quote(str(project_dir))}", *setup,
              f'echo "$(date -Is) {job.name} on $(hostname)"', job.command, ""]
    return "\n".join(lines)


def write_scripts(jobs: list[Job], out_dir: Path, **kwargs: Any) -> dict[str, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {}
    for order, job in enumerate(jobs):
        path = out_dir / f"{order:02d}_{job.name}.sbatch"
        path.write_text(script(job, **kwargs))
        paths[job.name] = path
    return paths


def sbatch_args(job: Job, ids: dict[str, str]) -> list[str]:
    """``sbatch --parsable [--dependency=afterok:a:b]`` for ``job`` given its parents' ids."""
    args = ["sbatch", "--parsable"]
    if job.after:
        args.append("--dependency=afterok:" + ":".join(ids[name] for name in job.after))
    return args


def submit(jobs: list[Job], paths: dict[str, Path], sbatch: str = "sbatch") -> dict[str, str]:
    """Submit in order, each with ``afterok`` on its parents; returns job ids by name."""
    ids: dict[str, str] = {}
    for job in jobs:
        args = sbatch_args(job, ids)
        args[0] = sbatch
        done = subprocess.run([*args, str(paths[job.name])], capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"sbatch {paths[job.name]} failed ({done.returncode}): "
                               f"{done.stderr.strip()}; submitted so far: {ids}")
        ids[job.name] = done.stdout.strip().split(";")[0]
    return ids
