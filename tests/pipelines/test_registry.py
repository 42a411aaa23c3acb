import subprocess
import sys

from ct_spatial_bench.pipeline_registry import register_pipelines

STAGES = {"sanity_data", "qa_filtering", "preprocessing", "inference_blind",
          "inference_geometry", "judging", "metrics", "reporting", "__default__"}


def test_every_stage_is_registered():
    assert STAGES <= set(register_pipelines())


def test_default_runs_inference_before_judging():
    default = register_pipelines()["__default__"]
    order = [n.name for n in default.nodes]
    assert order.index("geometry.answer_questions") < order.index("judge_predictions")
    assert order.index("generate_sanity_split") < order.index("preprocess_volumes")


def test_registration_imports_no_heavy_library():
    code = (
        "import sys; from ct_spatial_bench.pipeline_registry import register_pipelines;"
        "register_pipelines();"
        "heavy = [m for m in ('torch', 'transformers', 'sentence_transformers', 'monai',"
        " 'openai', 'nibabel', 'scipy') if m in sys.modules]; print(heavy); assert not heavy"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_capabilities_declared_on_the_adapters_choose_the_pipelines():
    """What each model can do is read from its class (README: the baselines run offline in
    every plain run; openai_vlm is an API endpoint with no weights of ours; the slice readers
    are hf_vlm, openai_vlm, medgemma, lingshu and the presets built on hf_vlm)."""
    from ct_spatial_bench.models.common import NeuralAdapter
    from ct_spatial_bench.models.registry import MODEL_REGISTRY, adapter_class, baselines

    assert baselines() == ("blind", "geometry")
    served = [name for name, entry in MODEL_REGISTRY.items() if entry.served]
    assert served == ["openai_vlm"]
    assert not issubclass(adapter_class("openai_vlm"), NeuralAdapter)
    for name, entry in MODEL_REGISTRY.items():
        assert entry.loads_weights == issubclass(adapter_class(name), NeuralAdapter), name
    assert {"hf_vlm", "openai_vlm", "medgemma", "lingshu"} <= {
        name for name, entry in MODEL_REGISTRY.items() if entry.reads_slices}
    pipelines = register_pipelines()
    quantized = {name.removeprefix("probes_quantization_") for name in pipelines
                 if name.startswith("probes_quantization_")}
    assert quantized == {name for name, e in MODEL_REGISTRY.items() if e.loads_weights}
    assert not quantized & {"blind", "geometry", "openai_vlm"}
