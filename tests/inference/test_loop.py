import json

import numpy as np

from ct_spatial_bench.models.base import Answer, ModelAdapter, Question
from ct_spatial_bench.inference.loop import run_model


class _Echo(ModelAdapter):
    """A stand-in model: answers with the image's label; fails on questions containing 'boom'."""

    name = "echo"
    input_spec = "ras_hu"

    def __init__(self):
        self.calls = 0

    def answer_volume(self, image, questions: list[Question]):
        self.calls += len(questions)
        if any("boom" in q.text for q in questions):
            if len(questions) == 1:
                raise RuntimeError("kaboom")
            raise RuntimeError("batch failed")
        return [Answer(f"{image}:{q.text}", f"<{image}> {q.text}") for q in questions]

    def describe(self):
        return {"model_revision": "r1", "generation": {"do_sample": False}}


def _items():
    return [
        {"qa_id": "v1::0", "image_path": "v1.nii.gz", "question": "q0"},
        {"qa_id": "v2::0", "image_path": "v2.nii.gz", "question": "q1"},
        {"qa_id": "v1::1", "image_path": "v1.nii.gz", "question": "boom"},
        {"qa_id": "v1::2", "image_path": "v1.nii.gz", "question": "q2"},
    ]


def test_each_volume_loaded_once_and_order_kept():
    loads = []

    def load_image(path):
        loads.append(path)
        return path.split(".")[0]

    preds = run_model(_Echo(), _items(), load_image, {}, progress=False)
    assert sorted(loads) == ["v1.nii.gz", "v2.nii.gz"]
    assert [p["qa_id"] for p in preds] == ["v1::0", "v2::0", "v1::1", "v1::2"]
    assert preds[0]["prediction"] == "v1:q0" and preds[0]["prompt"] == "<v1> q0"
    assert preds[0]["generation"] == {"do_sample": False} and preds[0]["model_revision"] == "r1"


def test_a_failing_item_is_an_error_and_the_rest_go_on():
    preds = run_model(_Echo(), _items(), lambda p: "img", {}, progress=False)
    by_id = {p["qa_id"]: p for p in preds}
    assert by_id["v1::1"]["status"] == "error" and "kaboom" in by_id["v1::1"]["error"]
    assert by_id["v1::1"]["error_kind"] == "infrastructure"
    assert by_id["v1::0"]["prompt"] == "<img> q0"  # a retry one by one keeps every prompt
    assert by_id["v1::2"]["status"] == "ok" and by_id["v1::2"]["prediction"] == "img:q2"


def test_a_missing_volume_fails_only_its_items():
    def load_image(path):
        if path == "v2.nii.gz":
            raise FileNotFoundError("gone")
        return "img"

    preds = run_model(_Echo(), _items()[:2], load_image, {}, progress=False)
    assert [p["status"] for p in preds] == ["ok", "error"]
    assert "v2.nii.gz" in preds[1]["error"] and preds[1]["error_kind"] == "data"
    assert preds[0]["error_kind"] is None


def test_non_finite_input_is_a_data_error():
    preds = run_model(_Echo(), _items()[:2], lambda p: np.array([1.0, np.nan]), {},
                      progress=False)
    assert [p["error_kind"] for p in preds] == ["data", "data"]
    assert "non-finite" in preds[0]["error"]


def test_resume_from_checkpoint_asks_nothing_twice(tmp_path):
    checkpoint = tmp_path / "ck.jsonl"
    first = _Echo()
    run_model(first, _items(), lambda p: "img", {}, checkpoint=checkpoint, progress=False)
    # a crash mid-write leaves a torn last line; it must be ignored
    with open(checkpoint, "a") as handle:
        handle.write('{"qa_id": "v1::2", "sta')
    second = _Echo()
    preds = run_model(second, _items(), lambda p: "img", {}, checkpoint=checkpoint, progress=False)
    assert second.calls == 1  # only the errored item is retried
    assert len(preds) == 4 and len({p["qa_id"] for p in preds}) == 4


def test_changed_settings_do_not_reuse_the_checkpoint(tmp_path):
    checkpoint = tmp_path / "ck.jsonl"
    run_model(_Echo(), _items()[:2], lambda p: "img", {"x": 1}, checkpoint=checkpoint,
              progress=False)
    again = _Echo()
    run_model(again, _items()[:2], lambda p: "img", {"x": 2}, checkpoint=checkpoint,
              progress=False)
    assert again.calls == 2
    assert all(json.loads(line)["run_signature"] for line in checkpoint.read_text().splitlines())


def test_operational_settings_and_url_spelling_keep_the_checkpoint(tmp_path):
    checkpoint = tmp_path / "ck.jsonl"
    first = {"model": "m", "base_url": "http://127.0.0.1:8000/v1", "timeout_s": 10,
             "batch_size": 1, "concurrency": 1, "max_retries": 1}
    run_model(_Echo(), _items()[:2], lambda p: "img", first, checkpoint=checkpoint,
              progress=False)
    for spelling in ("http://localhost:8000/v1/", "HTTP://LOCALHOST:8000/v1"):
        again = _Echo()
        run_model(again, _items()[:2], lambda p: "img",
                  {**first, "base_url": spelling, "timeout_s": 99, "batch_size": 8,
                   "concurrency": 32, "max_retries": 5},
                  checkpoint=checkpoint, progress=False)
        assert again.calls == 0
    for other_server in ("http://127.0.0.1:8001/v1", "http://10.0.0.2:8000/v1",
                         "http://127.0.0.1:8000/v2"):
        again = _Echo()
        run_model(again, _items()[:2], lambda p: "img", {**first, "base_url": other_server},
                  checkpoint=checkpoint, progress=False)
        assert again.calls == 2, other_server


def test_default_ports_are_one_spelling():
    from ct_spatial_bench.inference.checkpoint import normal_url

    assert normal_url("https://api.openai.com:443/v1/") == normal_url("https://API.openai.com/v1")
    assert normal_url("http://localhost:80") == "http://127.0.0.1"
    assert normal_url("http://h:8080/v1") != normal_url("http://h/v1")


def test_a_changed_input_is_asked_again(tmp_path):
    checkpoint = tmp_path / "ck.jsonl"
    volumes = {"v1.nii.gz": np.zeros(4), "v2.nii.gz": np.ones(4)}
    items = _items()[:2]
    run_model(_Echo(), items, volumes.get, {}, checkpoint=checkpoint, progress=False)
    volumes["v2.nii.gz"] = np.full(4, 2.0)  # replaced after it was answered
    again = _Echo()
    preds = run_model(again, items, volumes.get, {}, checkpoint=checkpoint, progress=False)
    assert again.calls == 1 and preds[1]["prediction"].startswith("[2.")
    assert preds[0]["input_fingerprint"] != preds[1]["input_fingerprint"]


def test_a_torn_line_does_not_swallow_the_next_prediction(tmp_path):
    checkpoint = tmp_path / "ck.jsonl"
    run_model(_Echo(), _items()[:1], lambda p: "img", {}, checkpoint=checkpoint, progress=False)
    with open(checkpoint, "a") as handle:  # a crash mid-write: no newline at the end
        handle.write('{"qa_id": "v2::0", "sta')
    run_model(_Echo(), _items()[:2], lambda p: "img", {}, checkpoint=checkpoint, progress=False)
    third = _Echo()
    run_model(third, _items()[:2], lambda p: "img", {}, checkpoint=checkpoint, progress=False)
    assert third.calls == 0  # v2::0, written after the torn line, was read back
    lines = checkpoint.read_text().splitlines()
    assert lines[1] == '{"qa_id": "v2::0", "sta' and json.loads(lines[2])["qa_id"] == "v2::0"


def test_each_answer_is_stored_before_the_next_call(tmp_path):
    """A paid adapter yields its answers: when it asks its second question, the first answer
    is already in the checkpoint (a kill there loses nothing that was paid for)."""
    checkpoint = tmp_path / "ck.jsonl"
    seen_before_call = []

    class Paid(ModelAdapter):
        name, input_spec = "paid", "x"

        def answer_one(self, image, question):
            seen_before_call.append(len(checkpoint.read_text().splitlines())
                                    if checkpoint.exists() else 0)
            return Answer("yes", question.text)

    items = [{"qa_id": f"v::{i}", "image_path": "v.nii.gz", "question": f"q{i}"}
             for i in range(3)]
    run_model(Paid(), items, lambda p: "img", {}, checkpoint=checkpoint, progress=False)
    assert seen_before_call == [0, 1, 2]


def test_answers_handed_back_out_of_order_join_by_qa_id(tmp_path):
    """A batching adapter yields answers as their rows finish, each naming its question: every
    prediction is its own question's, checkpointed in the order the answers came."""
    checkpoint = tmp_path / "ck.jsonl"

    class Batched(ModelAdapter):
        name, input_spec = "batched", "x"

        def answer_volume(self, image, questions):
            for question in reversed(questions):
                yield Answer(f"re {question.text}", question.text, qa_id=question.qa_id)

    items = [{"qa_id": f"v::{i}", "image_path": "v.nii.gz", "question": f"q{i}"}
             for i in range(3)]
    predictions = run_model(Batched(), items, lambda p: "img", {}, checkpoint=checkpoint,
                            progress=False)
    assert [(p["qa_id"], p["prediction"]) for p in predictions] == [
        ("v::0", "re q0"), ("v::1", "re q1"), ("v::2", "re q2")]
    stored = [json.loads(line)["qa_id"] for line in checkpoint.read_text().splitlines()]
    assert stored == ["v::2", "v::1", "v::0"]


def test_an_answer_to_a_question_not_asked_is_an_error_not_a_prediction():
    class Stray(ModelAdapter):
        name, input_spec = "stray", "x"

        def answer_volume(self, image, questions):
            yield Answer("yes", "p", qa_id="elsewhere::9")

    items = [{"qa_id": "v::0", "image_path": "v.nii.gz", "question": "q0"}]
    [prediction] = run_model(Stray(), items, lambda p: "img", {}, progress=False)
    assert prediction["status"] == "error" and "elsewhere::9" in prediction["error"]


def test_predictions_are_records_written_in_the_order_files_have_had(tmp_path):
    """The loop builds ``Prediction`` records; their rows (and the checkpoint's) have the fields,
    in the order, of a prediction written by the code from before the records were typed
    (tests/data/round5_outputs, written by c6b92f3)."""
    from pathlib import Path

    from ct_spatial_bench.records import Prediction

    old = Path(__file__).parents[1] / "data" / "round5_outputs" / "predictions_geometry.jsonl"
    old_keys = list(json.loads(old.read_text().splitlines()[0]))
    checkpoint = tmp_path / "echo.jsonl"
    preds = run_model(_Echo(), _items()[:2], lambda p: np.zeros((2, 2, 2)), {},
                      checkpoint=checkpoint, progress=False)
    assert all(isinstance(p, Prediction) for p in preds)
    assert [list(p.to_dict()) for p in preds] == [old_keys, old_keys]
    assert [list(json.loads(line)) for line in checkpoint.read_text().splitlines()] == \
        [old_keys, old_keys]
    assert preds[0].input_spec == "ras_hu" and preds[0].base_model == "echo"
