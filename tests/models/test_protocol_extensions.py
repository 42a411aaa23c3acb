"""Blind controls, efficiency fields, the configuration check and the isolated-interpreter
worker."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from ct_spatial_bench.inference.backends.worker import RemoteAdapter, WorkerError
from ct_spatial_bench.inference.blind_control import BlindControl, blank_like
from ct_spatial_bench.inference.loop import run_model
from ct_spatial_bench.models.base import Answer, ModelAdapter
from ct_spatial_bench.models.common import ModelNotConfigured, generation_settings
from ct_spatial_bench.models.registry import MODEL_REGISTRY, check_configured
from ct_spatial_bench.sharding import shard_checkpoint

ITEMS = [{"qa_id": "v::0", "image_path": "v.nii.gz", "question": "Which side?", "answer": "Left"},
         {"qa_id": "v::1", "image_path": "v.nii.gz", "question": "Which side?", "answer": "Left"},
         {"qa_id": "w::0", "image_path": "w.nii.gz", "question": "Is it large?", "answer": "No"}]


class _Looker(ModelAdapter):
    name, input_spec = "looker", "x"

    def __init__(self):
        self.seen = []

    def answer_volume(self, image, questions):
        self.seen += [image] * len(questions)
        text = "bright" if image is not None and np.asarray(image).any() else "dark"
        return [Answer(text, q.text) for q in questions]

    def describe(self):
        return {"model_revision": "r", "generation": {"do_sample": False}}

    def efficiency(self):
        return {"parameters": 3, "dtype": "float32", "device": "cpu", "peak_gpu_memory_mib": None}


def test_blind_twin_gets_a_blank_of_the_same_shape_and_is_marked():
    inner = _Looker()
    preds = run_model(BlindControl(inner), ITEMS, lambda _: np.ones((2, 3)), {}, progress=False)
    assert {p["prediction"] for p in preds} == {"dark"}
    assert all(s.shape == (2, 3) for s in inner.seen)
    # the model's own name, its variant a field (never a suffix in the name)
    assert {(p["model"], p["variant"], p["base_model"], p["blind"]) for p in preds} == {
        ("looker", "blind", "looker", True)}
    sighted = run_model(_Looker(), ITEMS, lambda _: np.ones((2, 3)), {}, progress=False)
    assert sighted[0]["prediction"] == "bright" and sighted[0]["blind"] is False
    assert sighted[0]["run_signature"] != preds[0]["run_signature"]
    assert sighted[0]["efficiency"]["parameters"] == 3


def test_withhold_mode_sends_no_image_and_blanks_keep_nifti_headers(ras_volume):
    inner = _Looker()
    run_model(BlindControl(inner, "withhold"), ITEMS[:1], lambda _: np.ones(2), {}, progress=False)
    assert inner.seen == [None]
    blank = blank_like(ras_volume)
    assert not np.asanyarray(blank.dataobj).any() and np.allclose(blank.affine, ras_volume.affine)


def test_blind_checkpoint_sits_beside_the_models():
    assert shard_checkpoint("data/ck/m3d.jsonl", 0, 1, suffix="_blind") == "data/ck/m3d_blind.jsonl"
    assert shard_checkpoint("data/ck/m3d.jsonl", 0, 1, suffix="") == "data/ck/m3d.jsonl"
    assert shard_checkpoint("data/ck/m3d.jsonl", 1, 2, suffix="_blind") == \
        "data/ck/m3d_blind.shard-1-of-2.jsonl"


def test_decoding_is_greedy_unless_configured():
    assert generation_settings({}, {"max_new_tokens": 9}) == {
        "do_sample": False, "num_beams": 1, "max_new_tokens": 9}
    assert "temperature" not in generation_settings({"generation": {"temperature": 1.0}}, {})
    assert generation_settings({"generation": {"do_sample": True, "temperature": 0.7}},
                               {})["temperature"] == 0.7


@pytest.mark.parametrize("name", sorted(n for n in MODEL_REGISTRY if n not in ("blind",
                                                                               "geometry")))
def test_every_model_without_a_checkpoint_says_what_to_set(name):
    with pytest.raises(ModelNotConfigured, match=rf"{name}\.inference\.config\.\w+") as info:
        check_configured(name, {})
    assert "--params" in str(info.value)


def test_worker_serves_a_model_from_another_interpreter():
    remote = RemoteAdapter("blind", None, sys.executable)
    prior = [{"qa_id": i["qa_id"], "question": i["question"], "answer": i["answer"]}
             for i in ITEMS]
    try:
        remote.load({"answer_prior": prior})
        preds = run_model(remote, ITEMS, None, {}, progress=False)
    finally:
        remote.close()
    assert [p["prediction"] for p in preds] == ["Left", "Left", "Yes"]
    assert preds[0]["model_revision"] == "blind-v2"
    # the worker reports the model's prompt template, which the checkpoint signature holds
    assert remote.prompt_template() == "{question}"


def test_worker_errors_come_back_as_errors():
    remote = RemoteAdapter("no_such_model", None, sys.executable)
    with pytest.raises(WorkerError, match="unknown model"):
        remote.load({})
    remote.close()
    with pytest.raises(WorkerError, match="cannot start"):
        RemoteAdapter("blind", None, "/nonexistent/python").load({})


def test_worker_protocol_keeps_stdout_for_replies():
    code = ("import ct_spatial_bench.inference.backends.worker_process as w; w.main()")
    request = json.dumps({"op": "load", "model": "blind", "config": {}}) + "\n"
    out = subprocess.run([sys.executable, "-c", "print('noise');" + code], input=request,
                         capture_output=True, text=True, check=True)
    replies = [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]
    assert replies[0]["ok"] and replies[0]["describe"]["model_revision"] == "blind-v2"


@pytest.mark.slow
def test_kedro_run_without_a_checkpoint_stops_at_once():
    project = Path(__file__).resolve().parents[2]
    run = subprocess.run([sys.executable, "-m", "kedro", "run", "--pipelines", "inference_m3d"],
                         cwd=project, capture_output=True, text=True, timeout=300)
    assert run.returncode != 0
    message = " ".join((run.stdout + run.stderr).split())
    assert "m3d.inference.config.model_path" in message and "Nothing was run" in message
    assert "Running node" not in message
