from functools import partial, update_wrapper

from kedro.pipeline import Pipeline, node

from .nodes import answer_questions


def create_pipeline(model: str, input_spec: str | None = None, blind: bool = False,
                    answer_prior: str | None = None, **kwargs) -> Pipeline:
    """``inference_<model>``: its datasets and parameters live under the model's namespace
    (``<model>.predictions``, ``params:<model>.inference``).

    ``blind=True`` builds the blind control ``inference_<model>_blind`` in the same namespace and
    with the same parameters: node ``<model>.answer_questions_blind``, output
    ``<model>.predictions_blind`` (predictions of ``<model>`` with ``variant: blind``).
    ``answer_prior``: the dataset of QA items a model that answers from a prior learns from.
    """
    inputs = {"qa_items": "benchmark_qa", "params": "params:inference"}
    shared = {"benchmark_qa"}
    if input_spec is not None:
        inputs["model_inputs"] = f"model_inputs_{input_spec}"
        inputs["raw_volumes"] = "raw_volumes"  # to check the inputs against (run alone)
        shared.update({f"model_inputs_{input_spec}", "raw_volumes"})
    if answer_prior is not None:
        inputs["answer_prior"] = answer_prior
        shared.add(answer_prior)
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


def create_merge_pipeline(model: str, blind: bool = False, **kwargs) -> Pipeline:
    """``merge_<model>``: the parts of a sharded ``inference_<model>`` run
    (``<model>.prediction_parts``) joined by ``qa_id`` into ``<model>.predictions``."""
    from .merge import merge_predictions

    suffix = "_blind" if blind else ""
    return Pipeline(
        [node(merge_predictions,
              inputs={"qa_items": "benchmark_qa", "prediction_parts": f"prediction_parts{suffix}",
                      "params": "params:inference"},
              outputs=f"predictions{suffix}", name=f"merge_predictions{suffix}")],
        namespace=model,
        inputs={"benchmark_qa"},
    )
