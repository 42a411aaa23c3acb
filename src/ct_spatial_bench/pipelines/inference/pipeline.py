from functools import partial, update_wrapper

from kedro.pipeline import Pipeline, node

from .nodes import answer_questions


def create_pipeline(model: str, input_spec: str | None = None, blind: bool = False,
                    **kwargs) -> Pipeline:
    """``inference_<model>``: its datasets and parameters live under the model's namespace
    (``<model>.predictions``, ``params:<model>.inference``).

    ``blind=True`` builds the blind control ``inference_<model>_blind`` in the same namespace and
    with the same parameters: node ``<model>.answer_questions_blind``, output
    ``<model>.predictions_blind`` (predictions named ``<model>_blind``).
    """
    inputs = {"qa_items": "benchmark_qa", "params": "params:inference"}
    shared = {"benchmark_qa"}
    if input_spec is not None:
        inputs["model_inputs"] = f"model_inputs_{input_spec}"
        shared.add(f"model_inputs_{input_spec}")
    func, suffix = answer_questions, ""
    if blind:
        func = update_wrapper(partial(answer_questions, blind=True), answer_questions)
        suffix = "_blind"
    return Pipeline(
        [node(func, inputs=inputs, outputs=f"predictions{suffix}",
              name=f"answer_questions{suffix}")],
        namespace=model,
        inputs=shared,
    )
