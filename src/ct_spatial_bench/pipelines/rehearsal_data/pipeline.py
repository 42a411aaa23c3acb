from kedro.pipeline import Pipeline, node

from .nodes import generate_rehearsal_tree


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline([
        node(
            generate_rehearsal_tree,
            inputs="params:rehearsal_data",
            outputs=["rehearsal_volumes", "rehearsal_metadata", "rehearsal_reports",
                     "rehearsal_qa", "rehearsal_categories"],
            name="generate_rehearsal_tree",
        ),
    ])
