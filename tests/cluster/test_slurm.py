"""``kedro slurm submit``: valid sbatch scripts carrying each model's resources, chained by
afterok (array per model -> merge -> judging -> metrics -> reporting)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from ct_spatial_bench.cluster.slurm import Job, Resources, plan, sbatch_args, script

PROJECT_ROOT = Path(__file__).resolve().parents[2]
STAGES = {name: Resources(cpus=1, mem="1G", time="00:10:00")
          for name in ("preprocessing", "merge", "judging", "metrics", "reporting")}


def test_plan_chains_arrays_merges_and_evaluation():
    models = {"m3d": Resources(gpus=1, num_shards=4), "blind": Resources(num_shards=1)}
    jobs = {job.name: job for job in plan(models, STAGES, "full", ["x=1"])}
    assert list(jobs) == ["preprocessing", "inference_m3d", "merge_m3d", "inference_blind",
                          "judging", "metrics", "reporting"]
    assert jobs["inference_m3d"].array == 4 and jobs["inference_blind"].array is None
    assert jobs["inference_m3d"].after == ["preprocessing"]
    assert jobs["merge_m3d"].after == ["inference_m3d"]
    assert jobs["judging"].after == ["merge_m3d", "inference_blind"]
    assert jobs["reporting"].after == ["metrics"]
    assert "m3d.inference.shard_index=${SLURM_ARRAY_TASK_ID},m3d.inference.num_shards=4,x=1" \
        in jobs["inference_m3d"].command
    ids = {"merge_m3d": "11", "inference_blind": "12"}
    assert sbatch_args(jobs["judging"], ids) == ["sbatch", "--parsable",
                                                 "--dependency=afterok:11:12"]


def test_resources_are_checked():
    with pytest.raises(ValueError, match="time"):
        Resources.from_params("m", {"time": "two hours"})
    with pytest.raises(ValueError, match="unknown"):
        Resources.from_params("m", {"gpu": 1})


def _scratch_project(root: Path) -> Path:
    root.mkdir()
    shutil.copy(PROJECT_ROOT / "pyproject.toml", root)
    shutil.copytree(PROJECT_ROOT / "conf", root / "conf", ignore=shutil.ignore_patterns("local"))
    (root / "conf" / "local").mkdir()
    (root / "src").mkdir()
    return root


@pytest.mark.slow
def test_dry_run_prints_valid_scripts_with_each_models_resources(tmp_path, monkeypatch):
    import yaml
    from click.testing import CliRunner

    from ct_spatial_bench.cli import cli

    root = _scratch_project(tmp_path / "project")
    monkeypatch.chdir(root)
    result = CliRunner().invoke(cli, ["slurm", "submit", "--env", "full", "--models",
                                      "geometry,radfm,blind", "--dry-run", "--params",
                                      "ct_rate_root=/data/CT-RATE"])
    assert result.exit_code == 0, result.output
    scripts = sorted((root / "slurm").glob("*.sbatch"))
    assert [p.name for p in scripts] == [
        "00_preprocessing.sbatch", "01_inference_geometry.sbatch", "02_merge_geometry.sbatch",
        "03_inference_radfm.sbatch", "04_merge_radfm.sbatch", "05_inference_blind.sbatch",
        "06_judging.sbatch", "07_metrics.sbatch", "08_reporting.sbatch"]
    for path in scripts:
        subprocess.run(["bash", "-n", str(path)], check=True)
        assert path.read_text() in result.output
    wanted = yaml.safe_load((root / "conf/base/parameters_inference.yml").read_text())
    for model in ("geometry", "radfm"):
        text = (root / "slurm" / next(p.name for p in scripts if f"inference_{model}" in p.name)
                ).read_text()
        res = wanted[model]["resources"]
        assert f"#SBATCH --array=0-{res['num_shards'] - 1}\n" in text
        assert f"#SBATCH --mem={res['mem']}\n" in text and f"--time={res['time']}\n" in text
        assert f"#SBATCH --cpus-per-task={res['cpus']}\n" in text
        assert ("#SBATCH --gres=gpu:1\n" in text) == bool(res["gpus"])
        assert "--env full" in text and "ct_rate_root=/data/CT-RATE" in text
    assert re.search(r"--dependency=afterok:\$JOB_MERGE_GEOMETRY:\$JOB_MERGE_RADFM:"
                     r"\$JOB_INFERENCE_BLIND .*06_judging", result.output)
    assert not (root / "logs").exists()  # a dry run leaves nothing but the scripts


def test_unknown_model_resources_are_a_usage_error(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from ct_spatial_bench.cli import cli

    monkeypatch.chdir(_scratch_project(tmp_path / "project"))
    result = CliRunner().invoke(cli, ["slurm", "submit", "--models", "nope", "--dry-run"])
    assert result.exit_code != 0 and "nope" in result.output


def test_script_of_a_gpu_array(tmp_path):
    job = Job("inference_x", "kedro run --pipelines inference_x",
              Resources(gpus=2, gpu_type="a100", partition="gpu", max_parallel=3,
                        extra=("--account=lab",)), array=8)
    text = script(job, project_dir=tmp_path, log_dir=tmp_path / "logs", setup=["module load x"])
    for line in ("#SBATCH --array=0-7%3", "#SBATCH --gres=gpu:a100:2", "#SBATCH --partition=gpu",
                 "#SBATCH --account=lab", "module load x", "%x-%A_%a.out"):
        assert line in text
    path = tmp_path / "x.sbatch"
    path.write_text(text)
    subprocess.run(["bash", "-n", str(path)], check=True)
