"""A model's inference block holds only what differs: the rest derives from its name and from
``inference_defaults``."""

from __future__ import annotations

from ct_spatial_bench.inference.settings import InferenceSettings, with_model_blocks

PARAMETERS = {
    "inference_defaults": {"checkpoint_dir": "run/checkpoints", "max_items": None,
                           "backend": "local", "runtime": {"python": None, "env": {}}},
    "m3d": {"resources": {"gpus": 1}, "inference": {"config": {"model_path": "/w/m3d"},
                                                    "max_items": 5}},
    "other": {"untouched": True},
}


def test_a_block_gets_its_name_its_checkpoint_and_the_defaults_under_its_own_settings():
    completed = with_model_blocks(PARAMETERS, ["m3d", "blind"])
    assert completed["m3d"] == {
        "resources": {"gpus": 1},
        "inference": {"model": "m3d", "checkpoint": "run/checkpoints/m3d.jsonl",
                      "max_items": 5, "backend": "local", "runtime": {"python": None, "env": {}},
                      "config": {"model_path": "/w/m3d"}}}
    # a registered model without a block of its own runs on the defaults alone
    assert completed["blind"]["inference"]["checkpoint"] == "run/checkpoints/blind.jsonl"
    assert completed["other"] == {"untouched": True}
    assert "model" not in PARAMETERS["m3d"]["inference"]  # the input is not changed
    settings = InferenceSettings.from_params(completed["m3d"]["inference"])
    assert (settings.model, settings.checkpoint, settings.max_items) == \
        ("m3d", "run/checkpoints/m3d.jsonl", 5)


def test_the_project_loader_completes_every_registered_model():
    from support.project import PROJECT_ROOT

    from ct_spatial_bench.models.registry import MODEL_REGISTRY
    from ct_spatial_bench.settings import CONFIG_LOADER_ARGS, CONFIG_LOADER_CLASS

    loader = CONFIG_LOADER_CLASS(str(PROJECT_ROOT / "conf"), **CONFIG_LOADER_ARGS,
                                 runtime_params={"radfm": {"inference": {"num_shards": 4}}})
    parameters = loader["parameters"]
    for name in MODEL_REGISTRY:
        block = parameters[name]["inference"]
        assert block["model"] == name
        assert block["checkpoint"] == f"data/07_model_output/checkpoints/{name}.jsonl"
    assert parameters["radfm"]["inference"]["num_shards"] == 4
    assert parameters["m3d"]["inference"]["num_shards"] == 1
