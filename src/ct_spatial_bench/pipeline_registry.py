"""The project's pipelines, one per stage, and ``inference_<model>`` for every registered model.

An explicit registry, not ``find_pipelines``: the inference pipelines are generated from the model
registry, and nothing heavy (torch, transformers, SDKs) is imported at registration.
"""

from __future__ import annotations

from kedro.pipeline import Pipeline

from ct_spatial_bench.models.registry import MODEL_REGISTRY, baselines
from ct_spatial_bench.pipelines import (
    inference,
    judging,
    mask_qa,
    fetch_upstream,
    metrics,
    offline_judge,
    preprocessing,
    probes,
    probes_quantization,
    qa_filtering,
    qa_generation,
    reporting,
    rehearsal_data,
    reproduce,
    sanity_data,
)

# The models a plain ``kedro run`` evaluates: those declared ``baseline`` (the offline baselines
# that bracket the scale); ``kedro run --pipelines probes`` perturbs the images of those of them
# that read one.
DEFAULT_MODELS = baselines()
PERTURBED_MODELS = tuple(name for name in DEFAULT_MODELS if MODEL_REGISTRY[name].input_spec)


def register_pipelines() -> dict[str, Pipeline]:
    specs_of = {name: entry.input_spec for name, entry in MODEL_REGISTRY.items()}
    all_specs = tuple(sorted({s for s in specs_of.values() if s}))
    default_specs = tuple(sorted({specs_of[m] for m in DEFAULT_MODELS if specs_of[m]}))

    inference_pipelines = {
        f"inference_{name}": inference.create_pipeline(
            name, spec, answer_prior="blind_answer_prior" if MODEL_REGISTRY[name].answer_prior
            else None)
        for name, spec in specs_of.items()
    }
    # The blind control of every model that looks at an image: same prompt, image blanked.
    blind_controls = {
        f"inference_{name}_blind": inference.create_pipeline(name, spec, blind=True)
        for name, spec in specs_of.items() if spec
    }
    # merge_<model> joins the parts of a sharded inference_<model> run (never combined
    # with inference_<model> itself: both write <model>.predictions).
    merge_pipelines = {
        f"merge_{name}": inference.create_merge_pipeline(name) for name in specs_of
    }
    merge_pipelines.update({
        f"merge_{name}_blind": inference.create_merge_pipeline(name, blind=True)
        for name, spec in specs_of.items() if spec
    })
    pipelines: dict[str, Pipeline] = {
        "sanity_data": sanity_data.create_pipeline(),
        # The full split rehearsed: phantoms in CT-RATE's layout (not part of __default__).
        "rehearsal_data": rehearsal_data.create_pipeline(),
        "qa_generation": qa_generation.create_pipeline(),
        # Generated questions through the filter and tagger, apart from the benchmark.
        "qa_curation": qa_generation.create_curation_pipeline(),
        "qa_filtering": qa_filtering.create_pipeline(),
        "preprocessing": preprocessing.create_pipeline(all_specs),
        **inference_pipelines,
        **blind_controls,
        **merge_pipelines,
        "judging": judging.create_pipeline(),
        "metrics": metrics.create_pipeline(),
        "reporting": reporting.create_pipeline(),
        # Upstream CT-SpatialVQA's public files, downloaded and checked (needs the network).
        "fetch_upstream": fetch_upstream.create_pipeline(),
        # Upstream CT-SpatialVQA's files -> its published tables (not part of __default__).
        "reproduce": reproduce.create_pipeline(),
        # Fit the offline judge on upstream's public verdicts (not in __default__).
        "train_offline_judge": offline_judge.create_pipeline(),
    }
    # Everything after the raw data, for a split whose raw data already exists (``--env full``).
    pipelines["benchmark"] = (
        pipelines["qa_filtering"]
        + preprocessing.create_pipeline(default_specs)
        + sum((inference_pipelines[f"inference_{m}"] for m in DEFAULT_MODELS), Pipeline([]))
        + judging.create_pipeline(models=list(DEFAULT_MODELS))
        + pipelines["metrics"]
        + pipelines["reporting"]
    )
    # does a model look? The blind gap and the left-right flip (one rerun of the
    # laterality items' volumes) are cheap enough for the sanity default; the perturbations (a
    # rerun of every volume per strength) run with `kedro run --pipelines probes`, which also
    # redraws the report. Not in `benchmark`: on the full split the flip reruns ~1,000 volumes.
    pipelines["probes_flip"] = probes.create_flip_pipeline(DEFAULT_MODELS)
    # The mask-derived track: questions computed from label maps, the default models' answers,
    # exact scores, and the report redrawn with it beside the jury track (~45 s of CPU on the
    # sanity split, so it is part of the default run too).
    pipelines["mask_qa"] = mask_qa.create_pipeline(DEFAULT_MODELS) + pipelines["reporting"]
    pipelines["probes"] = (
        probes.create_pipeline(DEFAULT_MODELS, PERTURBED_MODELS) + pipelines["reporting"])
    # Input-representation ablations of each slice-reading model (needs the model configured).
    for name, entry in MODEL_REGISTRY.items():
        if entry.reads_slices:
            pipelines[f"probes_representations_{name}"] = (
                probes.create_representation_pipeline([name]) + pipelines["reporting"])
    # Quantization ablation of each model that loads weights (needs the model configured).
    for name, spec in specs_of.items():
        if MODEL_REGISTRY[name].loads_weights:
            pipelines[f"probes_quantization_{name}"] = (
                probes_quantization.create_pipeline(name, spec) + pipelines["reporting"])
    # qa_generation runs offline (templates) on the sanity reports; its output feeds nothing
    # downstream by default (see the qa_curation pipeline).
    pipelines["__default__"] = (
        pipelines["sanity_data"] + pipelines["qa_generation"] + pipelines["benchmark"]
        + pipelines["probes_flip"] + pipelines["mask_qa"])
    return pipelines
