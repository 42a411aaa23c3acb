"""Integration: a real array job and its afterok chain on a single-node SLURM cluster.

Uses the cluster ``sinfo`` answers for; failing that, as root with Debian's slurm-wlm and munge
installed, it starts slurmctld and slurmd on 127.0.0.1 from a slurm.conf written here (and stops
them after). Elsewhere it skips, saying why.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

from ct_spatial_bench.cluster.slurm import Job, Resources, submit, write_scripts

SLURM_CONF = """ClusterName=csbtest
SlurmctldHost={host}(127.0.0.1)
SlurmctldPort={port}
SlurmdPort={dport}
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SlurmUser=root
SlurmctldPidFile={d}/slurmctld.pid
SlurmdPidFile={d}/slurmd.pid
SlurmdSpoolDir={d}/spool
StateSaveLocation={d}/state
SlurmctldLogFile={d}/slurmctld.log
SlurmdLogFile={d}/slurmd.log
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
MpiDefault=none
ReturnToService=2
NodeName={host} NodeAddr=127.0.0.1 CPUs={cpus} RealMemory=2000 State=UNKNOWN
PartitionName=test Nodes={host} Default=YES MaxTime=INFINITE State=UP
"""


def _answers(env=None) -> bool:
    try:
        return subprocess.run(["sinfo", "-h"], capture_output=True, timeout=10,
                              env=env).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def slurm_env(tmp_path_factory):
    if shutil.which("sbatch") is None:
        pytest.skip("no sbatch: install Debian's slurm-wlm (and munge) for this test")
    if _answers():
        yield dict(os.environ)
        return
    missing = [b for b in ("slurmctld", "slurmd", "munge") if shutil.which(b) is None
               and not Path(f"/usr/sbin/{b}").exists()]
    if missing or os.geteuid() != 0:
        pytest.skip(f"no running SLURM cluster, and cannot start one here (missing {missing}, "
                    f"root: {os.geteuid() == 0})")
    started = []
    if subprocess.run("munge -n | unmunge", shell=True, capture_output=True).returncode != 0:
        Path("/run/munge").mkdir(parents=True, exist_ok=True)
        subprocess.run(["/usr/sbin/munged", "--force"], capture_output=True)
    folder = tmp_path_factory.mktemp("slurm")
    for sub in ("spool", "state"):
        (folder / sub).mkdir()
    conf = folder / "slurm.conf"
    conf.write_text(SLURM_CONF.format(host=socket.gethostname(), port=_free_port(),
                                      dport=_free_port(), d=folder, cpus=os.cpu_count() or 1))
    env = {**os.environ, "SLURM_CONF": str(conf)}
    for daemon in ("slurmctld", "slurmd"):
        subprocess.run([f"/usr/sbin/{daemon}", "-f", str(conf)], env=env, check=True)
        started.append(folder / f"{daemon}.pid")
    deadline = time.time() + 30
    while not _answers(env) and time.time() < deadline:
        time.sleep(0.5)
    if not _answers(env):
        pytest.skip(f"slurmctld did not answer; see {folder}/slurmctld.log")
    yield env
    for pid_file in started:
        if pid_file.is_file():
            os.kill(int(pid_file.read_text().split()[0]), signal.SIGTERM)


@pytest.mark.slow
def test_an_array_job_and_its_afterok_chain_run(tmp_path, slurm_env, monkeypatch):
    for key, value in slurm_env.items():
        monkeypatch.setenv(key, value)
    small = Resources(cpus=1, mem="100M", time="00:05:00")
    out = tmp_path / "out"
    out.mkdir()
    jobs = [
        Job("inference_x", f'echo "shard $SLURM_ARRAY_TASK_ID" > {out}/shard-$SLURM_ARRAY_TASK_ID',
            small, array=3),
        Job("merge_x", f"cat {out}/shard-* > {out}/merged", small, after=["inference_x"]),
        # Written then renamed: the shell creates a redirect's target before the command fills it,
            # so polling for the file alone would race with its writer.
            Job("judging", f"wc -l < {out}/merged > {out}/judged.part && mv {out}/judged.part {out}/judged",
                small, after=["merge_x"]),
    ]
    paths = write_scripts(jobs, tmp_path / "scripts", project_dir=tmp_path,
                          log_dir=tmp_path / "logs", setup=[])
    (tmp_path / "logs").mkdir()
    ids = submit(jobs, paths)
    assert all(job_id.isdigit() for job_id in ids.values())
    deadline = time.time() + 120
    while not (out / "judged").is_file() and time.time() < deadline:
        time.sleep(1)
    assert (out / "judged").is_file(), sorted(p.name for p in (tmp_path / "logs").iterdir())
    assert (out / "merged").read_text().split("\n")[:3] == ["shard 0", "shard 1", "shard 2"]
    assert (out / "judged").read_text().strip() == "3"
