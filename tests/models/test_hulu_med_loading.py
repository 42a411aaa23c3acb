"""Hulu-Med's loader picks the authors' package from the checkpoint's config and refuses a
checkpoint whose weight names are not the model's (the issue's 14B-through-Qwen2 case)."""

from __future__ import annotations

import json
from importlib.metadata import version

import pytest
from packaging.version import Version

if Version(version("transformers")) < Version("4.51"):  # the lowest-direct CI venv holds 4.45
    pytest.skip("Hulu-Med's checkpoints are Qwen3/Qwen2 as transformers >= 4.51 builds them (its "
                "authors pin 4.51.2, the main venv floor is 4.45)", allow_module_level=True)

from hulu_med_folders import write_checkpoint, write_code_dir

from ct_spatial_bench.models.adapters.hulu_med import HuluMed, code_package
from ct_spatial_bench.models.strict_loading import WeightMismatch


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    root = tmp_path_factory.mktemp("hulu")
    return {"code": write_code_dir(root / "src"),
            "qwen3": write_checkpoint(root / "Hulu-Med-14B", "Qwen3"),
            "qwen2": write_checkpoint(root / "Hulu-Med-7B", "Qwen2")}


def test_the_published_layout_is_sharded_with_an_index(folders):
    names = {p.name for p in folders["qwen3"].iterdir()}
    assert "model.safetensors.index.json" in names and "model.safetensors" not in names
    assert json.loads((folders["qwen3"] / "config.json").read_text())["model_type"] == \
        "hulumed_qwen2"


def test_the_package_follows_the_config(folders):
    for size, package in (("qwen3", "hulumed_qwen3"), ("qwen2", "hulumed")):
        assert code_package(json.loads((folders[size] / "config.json").read_text())) == package
    assert code_package({"model_type": "hulumed_qwen3"}) == "hulumed_qwen3"


def _load(folders, size, **extra):
    import sys

    adapter = HuluMed()
    adapter.load({"model_path": str(folders[size]), "code_dir": str(folders["code"]),
                  "device": "cpu", **extra})
    return adapter, sys.modules[f"{adapter.package}.model"].CALLS[-1]


@pytest.mark.parametrize("size", ["qwen3", "qwen2"])
def test_each_checkpoint_loads_through_its_own_package_with_sdpa(folders, size):
    adapter, call = _load(folders, size)
    assert adapter.package == {"qwen3": "hulumed_qwen3", "qwen2": "hulumed"}[size]
    assert call["attn_implementation"] == "sdpa" and call["device_map"] == "cpu"
    layer = adapter.model.model.layers[0].self_attn
    assert hasattr(layer, "q_norm") == (size == "qwen3")
    assert adapter.describe()["code_package"] == adapter.package


def test_a_qwen2_load_of_the_qwen3_layout_fails_naming_the_weights(folders):
    with pytest.raises(WeightMismatch) as caught:
        _load(folders, "qwen3", code_package="hulumed")
    message = str(caught.value)
    # Qwen2 has q/k/v biases the Qwen3 checkpoint lacks; Qwen3's q_norm/k_norm have no place
    assert "missing from the checkpoint (model.layers.0.self_attn.k_proj.bias" in message
    assert "in the checkpoint but not in the model (model.layers.0.self_attn.k_norm.weight" in \
        message
    assert message.startswith("hulu_med (hulumed): the weights of ")


def test_attention_implementation_is_passed_when_asked(folders):
    _, call = _load(folders, "qwen2", attn_implementation="eager")
    assert call["attn_implementation"] == "eager"
