"""One log file per SLURM job: conf/logging.yml's file handlers renamed for the job that runs.

Every job of a ``kedro slurm submit`` chain runs in the same project folder, so with one fixed
``logs/info.log`` the jobs (array tasks running at once above all) would write, and rotate, the
same file. Under SLURM (``SLURM_JOB_ID`` set) each file handler writes beside the configured file
instead, named like the job's ``.out`` file (``%x-%j``, ``%x-%A_%a`` for an array task):
``logs/csb-inference_m3d-4242_3.log``. Outside SLURM the configuration is used as written.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from pathlib import PurePath
from typing import Any


def job_label(environ: Mapping[str, str]) -> str | None:
    """``<job name>-<job id>`` of the SLURM job this process runs in (``<array job id>_<task>``
    for an array task, as SLURM's ``%A_%a``); None outside SLURM."""
    job_id = environ.get("SLURM_JOB_ID")
    if not job_id:
        return None
    array_job, task = environ.get("SLURM_ARRAY_JOB_ID"), environ.get("SLURM_ARRAY_TASK_ID")
    number = f"{array_job}_{task}" if array_job and task else job_id
    name = environ.get("SLURM_JOB_NAME") or "job"
    return re.sub(r"[^\w.+-]", "_", f"{name}-{number}")  # a job name may hold a slash or space


def per_job_logging(config: Mapping[str, Any], environ: Mapping[str, str]) -> dict[str, Any] | None:
    """``config`` (a logging dictConfig) with each file handler's ``filename`` made the job's
    own, in the same folder; None outside SLURM or where no handler writes a file. With several
    file handlers each keeps its own name after the job's (``<job>.<name>.log``)."""
    label = job_label(environ)
    handlers = (config.get("handlers") or {}) if label else {}
    files = [name for name, handler in handlers.items() if handler.get("filename")]
    if not files:
        return None
    out = copy.deepcopy(dict(config))
    for name in files:
        path = PurePath(out["handlers"][name]["filename"])
        own = (f"{label}{path.suffix}" if len(files) == 1
               else f"{label}.{path.stem}{path.suffix}")
        out["handlers"][name]["filename"] = str(path.with_name(own))
    return out
