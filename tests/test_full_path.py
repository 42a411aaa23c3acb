"""The full split end to end on the rehearsal tree, as `kedro slurm submit --env full` chains it.

No SLURM here, so each job script the submit writes is run with bash in submission order (array
tasks one after another with SLURM_ARRAY_TASK_ID set): the same `kedro run` commands a cluster
runs. openai_vlm and the jury (openai, gemini, qwen through their SDKs) ask one fake server on
127.0.0.1: a served VLM's replies to vision requests, verdicts to the judges' prompts. One inference array task is killed midway;
the resubmission plans only what is unfinished, and no question is asked twice.
"""

from __future__ import annotations

import csv
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from support.fake_llm_server import GOOD_KEY, FakeLLMServer
from support.project import make_scratch_project


KILL_AFTER = 2  # answers the killed array task gets before it dies


def _kedro(root: Path, *args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "kedro", *args], cwd=root, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done.stdout


def _scripted_replies(qa_rows: list[dict]) -> tuple[dict[str, str], int]:
    """The VLM's reply to each question text and how many items that makes correct under the fake
    judges' rule (reply equals the reference, ignoring case): the reference of the question's
    first item, except every third question, answered "Unsure."."""
    script: dict[str, str] = {}
    for row in qa_rows:
        if row["question"] not in script:
            script[row["question"]] = "Unsure." if len(script) % 3 == 2 else row["answer"]
    correct = sum(script[r["question"]].strip().lower() == r["answer"].strip().lower()
                  for r in qa_rows)
    return script, correct


def _jobs(folder: Path) -> list[tuple[Path, list[int] | None]]:
    """The scripts in submission order, each with its array indices (None: not an array)."""
    jobs = []
    for path in sorted(folder.glob("*.sbatch")):
        match = re.search(r"^#SBATCH --array=([\d,-]+)", path.read_text(), re.M)
        indices = None
        if match:
            indices = []
            for part in match[1].split(","):
                low, _, high = part.partition("-")
                indices += list(range(int(low), int(high or low) + 1))
        jobs.append((path, indices))
    return jobs


def _run_job(path: Path, index: int | None, env: dict, vlm: FakeLLMServer | None = None) -> bool:
    """Run one job (or array task) like SLURM would; with ``vlm``, kill it once the VLM has
    answered KILL_AFTER more questions and it has had a second to checkpoint them."""
    task_env = {**env, **({"SLURM_ARRAY_TASK_ID": str(index)} if index is not None else {})}
    if vlm is None:
        done = subprocess.run(["bash", str(path)], env=task_env, capture_output=True, text=True,
                              timeout=600)
        assert done.returncode == 0, f"{path.name}[{index}]\n{done.stdout[-3000:]}{done.stderr[-3000:]}"
        return True
    hold_at = vlm.vlm_answered + KILL_AFTER
    vlm.hold_vlm_after(hold_at)
    child = subprocess.Popen(["bash", str(path)], env=task_env, start_new_session=True,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while vlm.vlm_answered < hold_at and time.monotonic() < deadline:
        assert child.poll() is None, f"{path.name} ended before it could be killed"
        time.sleep(0.1)
    time.sleep(1.0)
    os.killpg(child.pid, signal.SIGKILL)
    child.wait(30)
    vlm.release_vlm()
    return False


@pytest.mark.slow
def test_the_slurm_chain_on_the_rehearsal_tree_survives_a_killed_task(tmp_path):
    (tmp_path / "project").mkdir()
    root = make_scratch_project(tmp_path / "project")
    judges = vlm = FakeLLMServer().start()  # one server: the VLM and the jury
    try:
        _kedro(root, "run", "--pipelines", "rehearsal_data")
        tree = root / "data" / "rehearsal"
        qa_file = tree / "ct_spatialvqa" / "spatial_qa_filtered_full_nifti.jsonl"
        qa_rows = [json.loads(line) for line in qa_file.read_text().splitlines()]
        script, expected_correct = _scripted_replies(qa_rows)
        vlm.vlm_script = script

        judging = root / "conf" / "full" / "parameters_judging.yml"
        settings = yaml.safe_load(judging.read_text())
        for judge in settings["judging"]["judges"]:
            # A provider's key goes only to its own host: the fake server's key is named for it.
            judge["config"].update(base_url=judges.urls[judge["name"]], backoff_base_s=0.01,
                                   backoff_max_s=0.05, timeout_s=5,
                                   api_key_env="CSB_FAKE_JUDGE_KEY")
        judging.write_text(yaml.safe_dump(settings))
        env = {**os.environ, "OPENAI_API_KEY": GOOD_KEY, "GEMINI_API_KEY": GOOD_KEY,
               "DASHSCOPE_API_KEY": GOOD_KEY, "CSB_FAKE_JUDGE_KEY": GOOD_KEY}
        params = ",".join([
            f"ct_rate_root={tree / 'ct_rate'}", f"ct_spatialvqa_qa={qa_file}",
            "openai_vlm.inference.config.model=fake-vlm",
            f"openai_vlm.inference.config.base_url={vlm.urls['openai']}",
            "openai_vlm.resources.num_shards=2", "cluster.resources.preprocessing.num_shards=2"])

        def submit(out: str) -> str:
            done = subprocess.run(
                [sys.executable, "-m", "kedro", "slurm", "submit", "--env", "full", "--models",
                 "openai_vlm", "--dry-run", "--out-dir", f"slurm/{out}", "--params", params],
                cwd=root, env=env, capture_output=True, text=True, timeout=600)
            assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
            return done.stdout

        first = submit("first")
        assert first.index("slurm/first/00_qa.sbatch") < first.index("slurm/first/01_preprocessing.sbatch")
        jobs = _jobs(root / "slurm" / "first")
        assert [(p.name, i) for p, i in jobs] == [
            ("00_qa.sbatch", None), ("01_preprocessing.sbatch", [0, 1]),
            ("02_inference_openai_vlm.sbatch", [0, 1]), ("03_merge_openai_vlm.sbatch", None),
            ("04_judging.sbatch", None), ("05_metrics.sbatch", None),
            ("06_reporting.sbatch", None)]
        for path, indices in jobs[:2]:
            for index in indices or [None]:
                _run_job(path, index, env)
        inference = jobs[2][0]
        assert not _run_job(inference, 0, env, vlm=vlm)  # killed midway: afterok stops the chain
        _run_job(inference, 1, env)
        assert vlm.vlm_answered < len(qa_rows)

        second = submit("second")
        assert "finished, left out: preprocessing, qa" in second, [
            line for line in second.splitlines() if line.startswith(("# ", "plan"))]
        jobs = _jobs(root / "slurm" / "second")
        assert [(p.name, i) for p, i in jobs] == [
            ("00_inference_openai_vlm.sbatch", [0]), ("01_merge_openai_vlm.sbatch", None),
            ("02_judging.sbatch", None), ("03_metrics.sbatch", None),
            ("04_reporting.sbatch", None)]
        for path, indices in jobs:
            for index in indices or [None]:
                _run_job(path, index, env)

        board = {row["model"]: row for row in
                 csv.DictReader((root / "data/full/08_reporting/leaderboard.csv").open())}
        row = board["openai_vlm"]
        assert (int(row["n_items"]), int(row["n_correct"])) == (len(qa_rows), expected_correct)
        assert float(row["accuracy"]) == pytest.approx(expected_correct / len(qa_rows))
        assert int(row["n_failed"]) == int(row["n_errors"]) == 0
        # nothing lost, nothing asked twice: one reply per question; one judge call per distinct
        # (question, reference, prediction), the judge cache's key
        assert vlm.vlm_answered == len(qa_rows)
        distinct = len({(r["question"], r["answer"], script[r["question"]]) for r in qa_rows})
        per_protocol = {}
        for (protocol, _), n in judges.asked.items():
            per_protocol[protocol] = per_protocol.get(protocol, 0) + n
        assert per_protocol == {"openai": distinct, "gemini": distinct, "dashscope": distinct}
        assert "Nothing to submit" in submit("third")
        assert not list((root / "data").glob("07_model_output/**/*.jsonl"))  # sanity untouched
    finally:
        judges.stop()
