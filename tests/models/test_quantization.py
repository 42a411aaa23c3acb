"""The ``quantization`` option: a tiny real LLaVA loaded at int8 and int4 on CPU (optimum-quanto),
a model loaded by its authors' code quantized after loading, and the refusals said at load time.

Expected byte counts are worked out by hand from the layer shapes: quanto stores an int8 weight as
one byte per element plus a float32 scale per output row, an int4 weight as half a byte per
element plus a float32 scale and shift per output row (no groups below 128 inputs), and each
quantized layer keeps two float32 activation scales (unused when only weights are quantized).
"""

import pytest
import torch
from support.adapter_helpers import word_tokenizer

from ct_spatial_bench.inference.loop import run_model
from ct_spatial_bench.models import quantization
from ct_spatial_bench.models.adapters.hf_vlm import HFVisionLanguageModel
from ct_spatial_bench.models.adapters.openai_vlm import OpenAIVisionLanguageModel
from ct_spatial_bench.models.adapters.radfm import RadFM
from ct_spatial_bench.models.quantization import (
    QuantizationUnavailable,
    parameter_bytes,
    plan_quantization,
)

pytest.importorskip("optimum.quanto", reason="pip install 'ct_spatial_bench[quantization]'")


def _loaded(folder, quantization, **config):
    adapter = HFVisionLanguageModel()
    adapter.load({"model_path": str(folder), "device": "cpu", "quantization": quantization,
                  "generation": {"max_new_tokens": 3}, **config})
    return adapter


def _linear_shapes(model):
    """(out, in) of every linear layer but the output head: what transformers quantizes."""
    return [tuple(m.weight.shape) for name, m in model.named_modules()
            if isinstance(m, torch.nn.Linear) and not name.endswith("lm_head")]


def test_plan_reads_the_option_and_names_what_is_missing(monkeypatch):
    assert plan_quantization(None, "cpu", None, "m").precision == "full"
    plan = plan_quantization({"precision": "int4", "compute_dtype": "bfloat16"}, "cpu", None, "m")
    assert (plan.precision, plan.backend, plan.compute_dtype) == ("int4", "quanto", "bfloat16")
    assert plan_quantization("int8", "cpu", "float32", "m").compute_dtype == "float32"
    with pytest.raises(QuantizationUnavailable, match="'int3' is not one of null, int8, int4"):
        plan_quantization("int3", "cpu", None, "m")
    with pytest.raises(QuantizationUnavailable, match=r"unknown key\(s\) \['bits'\]"):
        plan_quantization({"bits": 4}, "cpu", None, "m")
    with pytest.raises(QuantizationUnavailable, match="bitsandbytes needs a CUDA device"):
        plan_quantization({"precision": "int8", "backend": "bitsandbytes"}, "cpu", None, "m")
    monkeypatch.setattr(quantization, "_installed", lambda module: module == "bitsandbytes")
    assert plan_quantization("int4", "cuda:0", None, "m").backend == "bitsandbytes"
    with pytest.raises(QuantizationUnavailable, match="needs optimum-quanto and accelerate"):
        plan_quantization("int4", "cpu", None, "m")


@pytest.mark.slow
def test_int8_and_int4_load_answer_and_report_their_memory(tiny_llava_dir, ras_volume):
    from ct_spatial_bench.imaging.specs import InputSpec, apply_spec

    slices = InputSpec("s", orientation="LPI", slices=2, axis_order="zyx", output="npy",
                       rgb_windows=((-1024, 1024), (-135, 215), (0, 80)))
    items = [{"qa_id": "v::0", "image_path": "v.nii.gz", "question": "which side"},
             {"qa_id": "v::1", "image_path": "v.nii.gz", "question": "is the nodule left"}]
    full = _loaded(tiny_llava_dir, None)
    shapes = _linear_shapes(full.model)
    full_bytes = parameter_bytes([full.model])
    assert full.efficiency()["precision"] == "full" and shapes
    for precision, stored in (("int8", lambda o, i: o * i + 4 * o + 8),
                              ("int4", lambda o, i: o * i // 2 + 8 * o + 8)):
        adapter = _loaded(tiny_llava_dir, precision)
        saved = sum(4 * o * i - stored(o, i) for o, i in shapes)
        assert parameter_bytes([adapter.model]) == full_bytes - saved
        preds = run_model(adapter, items, lambda _: apply_spec(ras_volume, slices), {},
                          progress=False)  # decodes under torch.inference_mode
        for pred in preds:
            assert pred["status"] == "ok", pred["error"]
            figures = pred["efficiency"]
            assert figures["precision"] == precision and figures["quantization_backend"] == "quanto"
            assert figures["compute_dtype"] == "float32"
            assert figures["parameter_memory_mib"] == round((full_bytes - saved) / 2**20, 3)
            assert figures["peak_memory_mib"] > 0
            assert figures["peak_memory_source"] == "process_peak_rss"


class _TinyRadFM(torch.nn.Module):
    """Linear layers run by ``generate`` with RadFM's call signature; answers token ``right``."""

    def __init__(self, answer_id):
        super().__init__()
        self.layers = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.Linear(16, 8))
        self.lm_head = torch.nn.Linear(8, 4)
        self.answer_id = answer_id

    def generate(self, lang_x, vision_x):
        self.lm_head(self.layers(torch.ones(1, 8)))
        return torch.tensor([[self.answer_id]])


@pytest.mark.slow
def test_a_model_loaded_by_its_authors_code_is_quantized_after_loading(ras_volume):
    from ct_spatial_bench.imaging.specs import InputSpec, apply_spec
    from ct_spatial_bench.models.base import Question

    tokenizer = word_tokenizer(("<image>", "</image>", *[f"<image{i}>" for i in range(32)]))
    model = _TinyRadFM(tokenizer.convert_tokens_to_ids("right"))
    adapter = RadFM()
    adapter.load({"model_path": "stand-in", "device": "cpu", "quantization": "int4",
                  "factory": lambda config, owner: {"model": model, "tokenizer": tokenizer}})
    kinds = {name: type(module).__name__ for name, module in model.named_modules()}
    assert kinds["layers.0"] == kinds["layers.1"] == "QLinear" and kinds["lm_head"] == "Linear"
    spec = InputSpec("radfm", orientation="LPI", shape=(8, 8, None), output="npy")
    with torch.inference_mode():
        [answer] = adapter.answer_volume(apply_spec(ras_volume, spec),
                                         [Question("q", "which side")])
    assert answer.text == "right"
    # hand count: layers 8->16 and 16->8 at int4, lm_head and every bias at float32
    stored = (16 * 8 // 2 + 8 * 16 + 8) + (8 * 16 // 2 + 8 * 8 + 8) + 4 * (16 + 8 + 4 * 8 + 4)
    assert adapter.efficiency()["parameter_memory_mib"] == round(stored / 2**20, 3)


def test_what_cannot_be_quantized_says_why_before_loading(monkeypatch):
    loads = []
    monkeypatch.setattr(quantization, "_installed", lambda module: True)
    with pytest.raises(QuantizationUnavailable, match="loaded by its authors' code"):
        RadFM().load({"model_path": "x", "device": "cuda", "quantization": "int4",
                      "factory": lambda config, owner: loads.append(1)})
    assert not loads  # refused before any weight was read
    with pytest.raises(QuantizationUnavailable, match="served through an API"):
        OpenAIVisionLanguageModel().load({"model": "gpt-4o", "quantization": "int8"})


def test_a_model_without_linear_layers_is_refused_at_load():
    class NoLinear(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.norm = torch.nn.LayerNorm(4)

    with pytest.raises(QuantizationUnavailable, match="no layer was quantized to int8"):
        RadFM().load({"model_path": "x", "device": "cpu", "quantization": "int8",
                      "factory": lambda config, owner: {"model": NoLinear(),
                                                        "tokenizer": None}})
