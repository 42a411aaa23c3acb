from functools import partial, update_wrapper

from kedro.pipeline import Pipeline, node

from .nodes import preprocess_volumes


def create_pipeline(spec_names: tuple[str, ...] = ("ras_hu",), **kwargs) -> Pipeline:
    """One node decodes every volume once and streams each spec's inputs to
    ``model_inputs_<spec>``, reading ``existing_model_inputs`` (the same datasets, all specs in
    one, as they were before the run) to make only what is missing."""
    spec_names = tuple(sorted(spec_names))
    func = update_wrapper(partial(preprocess_volumes, spec_names=spec_names), preprocess_volumes)
    return Pipeline([
        node(
            func,
            inputs=["benchmark_qa", "raw_volumes", "params:preprocessing",
                    "existing_model_inputs"],
            outputs=[f"model_inputs_{name}" for name in spec_names] + ["preprocessing_manifest"],
            name="preprocess_volumes",
        ),
    ])
