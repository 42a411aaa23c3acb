from kedro.pipeline import Pipeline, node

from .nodes import answer_questions


def create_pipeline(model: str, input_spec: str | None = None, **kwargs) -> Pipeline:
    """``inference_<model>``: its datasets and parameters live under the model's namespace
    (``<model>.predictions``, ``params:<model>.inference``)."""
    inputs = {"qa_items": "benchmark_qa", "params": "params:inference"}
    shared = {"benchmark_qa"}
    if input_spec is not None:
        inputs["model_inputs"] = f"model_inputs_{input_spec}"
        shared.add(f"model_inputs_{input_spec}")
    return Pipeline(
        [node(answer_questions, inputs=inputs, outputs="predictions", name="answer_questions")],
        namespace=model,
        inputs=shared,
    )
