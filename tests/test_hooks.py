import json
from types import SimpleNamespace

from kedro.io import DataCatalog
from kedro.pipeline import Pipeline, node
from kedro_datasets.json import JSONDataset

from ct_spatial_bench.hooks import ProvenanceHook


def identity(rows, params):
    return rows


def _context(project_path, params, split="sanity"):
    return SimpleNamespace(project_path=project_path, params=params, env=None,
                           config_loader={"globals": {"run_root": "data", "split": split}})


def test_manifest_records_inputs_params_models_and_no_secrets(tmp_path):
    source = tmp_path / "in.json"
    source.write_text(json.dumps([{"qa_id": "q", "model": "m", "prediction": "left",
                                   "model_revision": "rev1", "generation": {"do_sample": False}}]))
    catalog = DataCatalog({"rows": JSONDataset(filepath=str(source))})
    pipeline = Pipeline([node(identity, ["rows", "params:x"], "out", name="identity")])
    hook = ProvenanceHook(manifest_dir=tmp_path / "manifests")
    hook.after_context_created(_context(
        tmp_path, {"x": {"n": 1}, "judging": {"api_key": "sk-secret"}}))
    run_params = {"run_id": "2026-01-01T00.00.00.000Z", "pipeline_names": ["p"],
                  "runtime_params": {"openai_token": "t0ken"}}
    hook.before_pipeline_run(run_params, pipeline, catalog)
    rows = catalog.load("rows")
    hook.after_node_run(pipeline.nodes[0], catalog, {"rows": rows}, {"out": rows}, False, "r")
    hook.after_pipeline_run(run_params, {}, pipeline, catalog)
    written = tmp_path / "manifests" / "2026-01-01T00.00.00.000Z.json"
    text = written.read_text()
    assert "sk-secret" not in text and "t0ken" not in text
    manifest = json.loads(text)
    assert manifest["status"] == "completed" and manifest["split"] == "sanity"
    assert manifest["parameters"]["x"] == {"n": 1}
    assert manifest["inputs"]["rows"]["path"] == str(source)
    assert len(manifest["inputs"]["rows"]["sha256"]) == 64
    assert manifest["models"] == [{"model": "m", "model_revision": "rev1",
                                   "generation": "do_sample=False"}]
    assert manifest["packages"]["kedro"]
    assert (tmp_path / "manifest.json").read_text() == text


def test_a_failed_run_writes_its_error(tmp_path):
    hook = ProvenanceHook(manifest_dir=tmp_path / "m")
    hook.after_context_created(_context(tmp_path, {}))
    pipeline = Pipeline([node(identity, ["rows", "params:x"], "out", name="identity")])
    hook.before_pipeline_run({"run_id": "r1"}, pipeline, DataCatalog())
    hook.on_pipeline_error(ValueError("bad input"), {"run_id": "r1"}, pipeline, DataCatalog())
    manifest = json.loads((tmp_path / "m" / "r1.json").read_text())
    assert manifest["status"] == "failed" and "bad input" in manifest["error"]
    assert manifest["inputs"] == {"rows": None}
