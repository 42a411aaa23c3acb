"""``train_offline_judge``: fit the offline judge on upstream's public verdicts, evaluate it.

    kedro run --pipelines train_offline_judge

Reads upstream CT-SpatialVQA's files under ``offline_judge.source_dir`` (default
../shared/reference/ct_spatialvqa), writes the cross-model evaluation to
data/08_reporting/offline_judge/evaluation.{md,json} and the artefact the judge loads to
src/ct_spatial_bench/judges/offline/model.json (committed; conf/base/catalog_offline_judge.yml).
Not part of ``__default__``: it needs upstream's files and about 18 minutes on 2 cores.
"""

from kedro.pipeline import Pipeline, node

from .nodes import (
    build_training_table,
    evaluate_across_models,
    render_evaluation,
    train_on_every_model,
)


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline([
        node(build_training_table, "params:offline_judge", "training_table",
             name="build_training_table"),
        node(evaluate_across_models, ["training_table", "params:offline_judge"], "evaluation",
             name="evaluate_across_models"),
        node(render_evaluation, "evaluation", "evaluation_report", name="render_evaluation"),
        node(train_on_every_model, ["training_table", "evaluation", "params:offline_judge"],
             "model_artefact", name="train_on_every_model"),
    ], namespace="offline_judge", parameters={"params:offline_judge"})
