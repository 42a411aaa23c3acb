"""The inference engine: settings parsed once with errors that name the parameter, and the
failure policy (data errors listed by volume, infrastructure errors stop the run)."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from ct_spatial_bench.answer_failures import InferenceFailed
from ct_spatial_bench.inference.engine import run_inference
from ct_spatial_bench.inference.settings import InferenceConfigError, InferenceSettings
from ct_spatial_bench.models import registry
from ct_spatial_bench.models.base import Answer, ModelAdapter


class Flaky(ModelAdapter):
    """Fails on questions that say 'boom'; answers the others with the image's mean."""

    name = "flaky"
    input_spec = "x"

    def answer_one(self, image, question):
        if "boom" in question.text:
            raise ConnectionError("HTTP 502 from the model server")
        return Answer(f"{float(np.mean(image)):.0f}", question.text)


@pytest.fixture
def flaky(monkeypatch):
    monkeypatch.setitem(registry.MODEL_REGISTRY, "flaky", registry.entry_of(f"{__name__}:Flaky"))


def _items(*questions):
    return [{"qa_id": f"v{i % 2}::{i}", "image_path": f"v{i % 2}.nii.gz", "question": q}
            for i, q in enumerate(questions)]


INPUTS = {"v0": lambda: np.zeros(3), "v1": lambda: np.ones(3)}


@pytest.mark.parametrize("params, named", [
    ({"model": "m", "num_shards": "two"}, "m.inference.num_shards must be int"),
    ({"model": "m", "shard_index": 2, "num_shards": 2}, "m.inference.shard_index"),
    ({"model": "m", "shard_by": "case"}, "m.inference.shard_by must be one of"),
    ({"model": "m", "backend": "ray"}, "m.inference.backend"),
    ({"model": "m", "config": ["model_path"]}, "m.inference.config must be a mapping"),
    ({"model": "m", "runtime": {"env": "X=1"}}, "m.inference.runtime.env must be a mapping"),
    ({"model": "m", "max_infrastructure_error_share": 2}, "max_infrastructure_error_share"),
    ({"checkpoint": "x.jsonl"}, "<model>.inference.model is not set"),
])
def test_a_bad_setting_is_named(params, named):
    with pytest.raises(InferenceConfigError, match=named.replace(".", r"\.")):
        InferenceSettings.from_params(params)


def test_settings_are_typed():
    settings = InferenceSettings.from_params(
        {"model": "m", "num_shards": "4", "shard_index": 1, "max_items": None,
         "runtime": {"python": "/env/bin/python", "env": {"A": 1}}, "batch_size": 8})
    assert (settings.num_shards, settings.shard_index, settings.max_items) == (4, 1, None)
    assert settings.python == "/env/bin/python" and settings.env == {"A": "1"}


def test_any_failed_call_stops_the_run_by_default(flaky, tmp_path):
    settings = InferenceSettings(model="flaky", checkpoint=str(tmp_path / "ck.jsonl"))
    with pytest.raises(InferenceFailed, match="1 of 3 model calls failed.*HTTP 502"):
        run_inference(settings, _items("a", "b", "boom"), INPUTS)
    kept = (tmp_path / "ck.jsonl").read_text().splitlines()
    assert len(kept) == 3  # what was answered is checkpointed; the failure is an error row


def test_an_allowed_share_of_failures_lets_the_run_finish(flaky):
    settings = InferenceSettings(model="flaky", max_infrastructure_error_share=0.5)
    rows = run_inference(settings, _items("a", "b", "boom", "c"), INPUTS)
    assert [r["status"] for r in rows] == ["ok", "ok", "error", "ok"]
    assert rows[2]["error_kind"] == "infrastructure" and rows[1]["prediction"] == "1"


def test_data_errors_do_not_stop_the_run_and_are_listed_by_volume(flaky, caplog):
    inputs = {"v0": INPUTS["v0"], "v1": lambda: np.array([np.nan, 1.0])}
    with caplog.at_level(logging.WARNING):
        rows = run_inference(InferenceSettings(model="flaky"), _items("a", "b", "c"), inputs)
    assert [r["error_kind"] for r in rows] == [None, "data", None]
    assert "1 question(s) on v1.nii.gz not asked" in caplog.text
