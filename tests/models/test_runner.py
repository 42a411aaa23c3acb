import json

from ct_spatial_bench.models.base import ModelInput
from ct_spatial_bench.models.runner import run_model


class _Echo:
    """A stand-in model: answers with the image's label; fails on questions containing 'boom'."""

    name = "echo"
    input_spec = "ras_hu"

    def __init__(self):
        self.calls = 0

    def load(self, config):
        pass

    def answer(self, batch: list[ModelInput]):
        self.calls += len(batch)
        if any("boom" in i.question for i in batch):
            if len(batch) == 1:
                raise RuntimeError("kaboom")
            raise RuntimeError("batch failed")
        return [f"{i.image}:{i.question}" for i in batch]

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

    preds = run_model(_Echo(), _items(), load_image, {"batch_size": 8}, progress=False)
    assert sorted(loads) == ["v1.nii.gz", "v2.nii.gz"]
    assert [p["qa_id"] for p in preds] == ["v1::0", "v2::0", "v1::1", "v1::2"]
    assert preds[0]["prediction"] == "v1:q0"
    assert preds[0]["generation"] == {"do_sample": False} and preds[0]["model_revision"] == "r1"


def test_a_failing_item_is_an_error_and_the_rest_go_on():
    preds = run_model(_Echo(), _items(), lambda p: "img", {"batch_size": 8}, progress=False)
    by_id = {p["qa_id"]: p for p in preds}
    assert by_id["v1::1"]["status"] == "error" and "kaboom" in by_id["v1::1"]["error"]
    assert by_id["v1::2"]["status"] == "ok" and by_id["v1::2"]["prediction"] == "img:q2"


def test_a_missing_volume_fails_only_its_items():
    def load_image(path):
        if path == "v2.nii.gz":
            raise FileNotFoundError("gone")
        return "img"

    preds = run_model(_Echo(), _items()[:2], load_image, {}, progress=False)
    assert [p["status"] for p in preds] == ["ok", "error"]
    assert "v2.nii.gz" in preds[1]["error"]


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
