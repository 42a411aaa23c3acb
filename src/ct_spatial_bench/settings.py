"""Project settings: Kedro defaults, with conf/base as the sanity split and conf/full beside it."""

import os
import sys
import warnings
from pathlib import Path

from kedro.framework.project import LOGGING, configure_logging

from ct_spatial_bench.config_loader import ProjectConfigLoader
from ct_spatial_bench.console import ConsoleProgressHook
from ct_spatial_bench.hooks import ProvenanceHook, SecretRedactionHook
from ct_spatial_bench.job_logs import per_job_logging
from ct_spatial_bench.run_guards import ArtifactStampHook, PreflightHook

# No log record shows an API key; checks inputs, volumes, checkpoints and judge keys before any
# node (and prints the plan); stamps every artifact with its split and QA fingerprint (and refuses
# one of another QA set); every run writes a provenance manifest to
# <run_root>/08_reporting/manifests/; the console shows one line per stage and, after
# reporting, the leaderboard and the report's path (console.py, conf/logging.yml).
_ARTIFACT_STAMPS = ArtifactStampHook()
HOOKS = (SecretRedactionHook(), PreflightHook(), _ARTIFACT_STAMPS,
         ProvenanceHook(artifact_stamps=_ARTIFACT_STAMPS), ConsoleProgressHook())

# Kedro 1.7 registers its resolvers through an API that omegaconf 2.4 deprecates; the warning,
# three times per command, is about Kedro's code, not this project's configuration.
warnings.filterwarnings("ignore", message=r"register_new_resolver\(\) is deprecated")

# conf/logging.yml writes logs/info.log; a clone has logs/ (logs/.gitkeep), a copy may not.
Path("logs").mkdir(exist_ok=True)

# Under SLURM each job writes its own log, logs/<job name>-<job id>.log (job_logs.py): the jobs
# of a chain share the project folder, and array tasks would write and rotate one file at once.
# Kedro has configured logging by now (conf/logging.yml); this reconfigures it through Kedro, so
# that ParallelRunner's processes get the job's file too.
_JOB_LOGGING = per_job_logging(LOGGING.data, os.environ)
if _JOB_LOGGING is not None:
    configure_logging(_JOB_LOGGING)

# Progress bars only on a terminal: the project's own pass tqdm disable=None (console.py); the
# Hugging Face libraries' bars (weights loading) read this switch when they are first imported.
if not sys.stderr.isatty():
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")

# Each model's inference block completed from inference_defaults and its name, and every
# stage's parameters as ``protocol`` says (``--params protocol=upstream``).
CONFIG_LOADER_CLASS = ProjectConfigLoader
CONFIG_LOADER_ARGS = {
    "base_env": "base",
    "default_run_env": "local",
    # --env full overrides single parameters (say one path) without restating a whole block.
    "merge_strategy": {"parameters": "soft"},
}
