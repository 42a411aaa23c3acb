"""``kedro slurm submit``: valid sbatch scripts carrying each model's resources, chained by
afterok (array per model -> merge -> judging -> metrics -> reporting)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ct_spatial_bench.cluster.slurm import Chain, Job, Resources, plan, sbatch_args, script

PROJECT_ROOT = Path(__file__).resolve().parents[2]
STAGES = {name: Resources(cpus=1, mem="1G", time="00:10:00")
          for name in ("qa", "preprocessing", "merge", "judging", "metrics", "reporting")}


def test_plan_chains_qa_preprocessing_arrays_merges_and_evaluation():
    models = {"m3d": Resources(gpus=1, num_shards=4), "blind": Resources(num_shards=1)}
    chain = Chain(models, specs=("m3d",), preprocess_shards=3)
    jobs = {job.name: job for job in plan(chain, STAGES, "full", ["x=1"])}
    assert list(jobs) == ["qa", "preprocessing", "inference_m3d", "merge_m3d", "inference_blind",
                          "judging", "metrics", "reporting"]
    assert "--pipelines qa_filtering" in jobs["qa"].command
    assert jobs["preprocessing"].array == 3 and jobs["preprocessing"].after == ["qa"]
    assert ("preprocessing.only_specs=m3d,preprocessing.shard_index=${SLURM_ARRAY_TASK_ID},"
            "preprocessing.num_shards=3,x=1") in jobs["preprocessing"].command
    assert jobs["inference_m3d"].array == 4 and jobs["inference_blind"].array is None
    assert jobs["inference_m3d"].after == ["qa", "preprocessing"]
    assert jobs["merge_m3d"].after == ["inference_m3d"]
    assert jobs["judging"].after == ["merge_m3d", "inference_blind"]
    assert jobs["reporting"].after == ["metrics"]
    assert "m3d.inference.shard_index=${SLURM_ARRAY_TASK_ID},m3d.inference.num_shards=4,x=1" \
        in jobs["inference_m3d"].command
    ids = {"merge_m3d": "11", "inference_blind": "12"}
    assert sbatch_args(jobs["judging"], ids) == ["sbatch", "--parsable",
                                                 "--dependency=afterok:11:12"]


def test_a_resubmission_plans_only_what_is_unfinished():
    models = {"m3d": Resources(gpus=1, num_shards=4), "blind": Resources(num_shards=1)}
    chain = Chain(models, specs=("m3d",), preprocess_shards=3,
                  done=frozenset({"qa", "preprocessing", "inference_blind"}),
                  done_shards={"m3d": frozenset({0, 2})})
    jobs = {job.name: job for job in plan(chain, STAGES, "full", [])}
    assert list(jobs) == ["inference_m3d", "merge_m3d", "judging", "metrics", "reporting"]
    assert jobs["inference_m3d"].after == [] and jobs["judging"].after == ["merge_m3d"]
    text = script(jobs["inference_m3d"], Path("/p"), Path("/l"), setup=[])
    assert "#SBATCH --array=1,3\n" in text
    everything = frozenset({"qa", "preprocessing", "merge_m3d", "inference_blind", "reporting"})
    assert plan(Chain(models, ("m3d",), 3, everything), STAGES, "full", []) == []


def test_a_model_without_an_image_needs_no_preprocessing():
    jobs = plan(Chain({"blind": Resources()}), STAGES, None, [], python="/venv/bin/python")
    assert [job.name for job in jobs] == ["qa", "inference_blind", "judging", "metrics",
                                          "reporting"]
    assert jobs[1].command.startswith("/venv/bin/python -m kedro run --pipelines")


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


@pytest.fixture(scope="module")
def rehearsal_project(tmp_path_factory):
    """A scratch project holding a small rehearsal tree (CT-RATE layout, CT-SpatialVQA files)."""
    root = _scratch_project(tmp_path_factory.mktemp("slurm") / "project")
    subprocess.run([sys.executable, "-m", "kedro", "run", "--pipelines", "rehearsal_data",
                    "--params", "rehearsal_data.n_cases=3"], cwd=root, check=True,
                   capture_output=True)
    tree = root / "data" / "rehearsal"
    return root, (f"ct_rate_root={tree / 'ct_rate'},ct_spatialvqa_qa="
                  f"{tree / 'ct_spatialvqa' / 'spatial_qa_filtered_full_nifti.jsonl'}")


@pytest.mark.slow
def test_dry_run_prints_valid_scripts_with_each_models_resources(rehearsal_project, monkeypatch):
    import yaml
    from click.testing import CliRunner

    from ct_spatial_bench.cli import cli

    root, params = rehearsal_project
    monkeypatch.chdir(root)
    weights = root / "weights" / "radfm"  # the preflight checks the checkpoint is there
    weights.mkdir(parents=True, exist_ok=True)
    (weights / "pytorch_model.bin").touch()
    result = CliRunner().invoke(cli, ["slurm", "submit", "--env", "full", "--models",
                                      "geometry,radfm,blind", "--dry-run", "--params",
                                      params + f",radfm.inference.config.model_path={weights}"])
    assert result.exit_code == 0, result.output
    assert "plan (full split): " in result.output and " on 3 volumes" in result.output
    scripts = sorted((root / "slurm").glob("*.sbatch"))
    assert [p.name for p in scripts] == [
        "00_qa.sbatch", "01_preprocessing.sbatch", "02_inference_geometry.sbatch",
        "03_merge_geometry.sbatch", "04_inference_radfm.sbatch", "05_merge_radfm.sbatch",
        "06_inference_blind.sbatch", "07_judging.sbatch", "08_metrics.sbatch",
        "09_reporting.sbatch"]
    for path in scripts:
        subprocess.run(["bash", "-n", str(path)], check=True)
        assert path.read_text() in result.output
    preprocessing = (root / "slurm" / "01_preprocessing.sbatch").read_text()
    assert "preprocessing.only_specs=radfm+ras_hu," in preprocessing  # not all nine specs
    assert f"{sys.executable} -m kedro run --env full" in preprocessing
    wanted = yaml.safe_load((root / "conf/base/parameters_inference.yml").read_text())
    for model in ("geometry", "radfm"):
        text = (root / "slurm" / next(p.name for p in scripts if f"inference_{model}" in p.name)
                ).read_text()
        res = wanted[model]["resources"]
        assert f"#SBATCH --array=0-{res['num_shards'] - 1}\n" in text
        assert f"#SBATCH --mem={res['mem']}\n" in text and f"--time={res['time']}\n" in text
        assert f"#SBATCH --cpus-per-task={res['cpus']}\n" in text
        assert ("#SBATCH --gres=gpu:1\n" in text) == bool(res["gpus"])
        assert "--env full" in text and params.split(",")[0] in text
    assert re.search(r"--dependency=afterok:\$JOB_MERGE_GEOMETRY:\$JOB_MERGE_RADFM:"
                     r"\$JOB_INFERENCE_BLIND .*07_judging", result.output)
    assert not (root / "logs" / "slurm").exists()  # a dry run leaves nothing but the scripts


@pytest.mark.slow
def test_a_model_without_its_checkpoint_is_refused_naming_the_key(rehearsal_project):
    root, params = rehearsal_project
    done = subprocess.run([sys.executable, "-m", "kedro", "slurm", "submit", "--env", "full",
                           "--models", "m3d", "--dry-run", "--out-dir", "slurm/refused",
                           "--params", params], cwd=root, capture_output=True, text=True)
    assert done.returncode == 2
    last = (done.stdout + done.stderr).strip().splitlines()[-1]
    assert "m3d.inference.config.model_path" in last and "Traceback" not in done.stderr
    assert not (root / "slurm" / "refused").exists()


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
