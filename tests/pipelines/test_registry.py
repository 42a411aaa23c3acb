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
