import logging
from pathlib import Path

import pytest
from kedro.config import OmegaConfigLoader

from ct_spatial_bench.pipeline_registry import register_pipelines
from ct_spatial_bench.pipelines.qa_filtering.nodes import filter_spatial_questions
from ct_spatial_bench.pipelines.qa_generation.nodes import generate_candidate_qa
from support.project import UPSTREAM_REFERENCE as SHARED

PROJECT = Path(__file__).resolve().parents[2]


def _config(env: str, runtime_params=None) -> OmegaConfigLoader:
    return OmegaConfigLoader(str(PROJECT / "conf"), base_env="base", default_run_env=env,
                             env=env, merge_strategy={"parameters": "soft"},
                             runtime_params=runtime_params or {})


def test_generation_runs_offline_by_default_and_feeds_only_qa_curation():
    pipelines = register_pipelines()
    default_outputs = pipelines["__default__"].all_outputs()
    assert "generated_qa_candidates" in default_outputs
    assert "generated_qa_candidates" not in pipelines["__default__"].all_inputs()
    assert "generated_qa_candidates" in pipelines["qa_curation"].all_inputs()
    assert "generated_benchmark_qa" in pipelines["qa_curation"].outputs()


def test_generation_node_on_sanity_report_rows():
    params = _config("base")["parameters"]["qa_generation"]
    assert params["generator"] == "templates"
    rows = [{"case_id": "case_000", "impressions_text": "1. Right upper lobe nodule, 8 mm.",
             "findings_text": "Lungs: A 8 mm solid nodule is seen in the posterior right upper "
                              "lobe, in the lung periphery. Pleura: No pleural effusion."}]
    items, log = generate_candidate_qa(rows, params)
    assert log[0]["status"] == "ok" and items and items[0]["image_path"] == "case_000"
    assert items[0]["answer"].startswith("A 8 mm solid nodule")


def test_conf_llm_settings_build_the_shared_provider_clients():
    from ct_spatial_bench.curation.llm_client import curation_llm

    params = _config("base")["parameters"]
    keys = {"openai": "k", "gemini": "k"}
    generation = curation_llm(params["qa_generation"]["llm"], keys, "qa_generation", "templates")
    assert (generation.client.provider, generation.client.model) == ("openai", "gpt-4o")
    assert params["qa_generation"]["cache_path"].endswith(".sqlite")
    llm = params["qa_filtering"]["llm"]
    filtering = curation_llm(llm, keys, "qa_filtering", "rules",
                             other_keys=("filter_prompt", "tagger_prompt", "cache_path"))
    assert (filtering.client.provider, filtering.client.model) == ("gemini", "gemini-2.5-flash")
    assert filtering.max_tokens == 200 and llm["cache_path"].endswith(".sqlite")


def test_llm_steps_without_their_key_fall_back_offline_with_a_warning(caplog):
    params = _config("base")["parameters"]
    rows = [{"case_id": "case_000", "findings_text": "A nodule in the left lower lobe.",
             "impressions_text": ""}]
    with caplog.at_level(logging.WARNING):
        items, log = generate_candidate_qa(rows, {**params["qa_generation"], "generator": "llm"},
                                           {"openai": None})
        kept, _ = filter_spatial_questions(
            items, {**params["qa_filtering"], "spatial_filter": "llm", "categories": "llm"},
            {"gemini": None})
    assert "'openai'" in caplog.text and "OPENAI_API_KEY" in caplog.text
    assert "'gemini'" in caplog.text and "GEMINI_API_KEY" in caplog.text
    assert log[0]["generator"] == "templates" and items[0]["source"] == "templates"
    assert kept and kept[0]["meta"]["spatial_filter"] == "rules"
    assert kept[0]["meta"]["categories_from"] == "rules"


def test_full_env_resolves_ct_rate_paths_and_given_categories():
    config = _config("full", {"ct_spatialvqa_qa": "/data/qa.jsonl"})
    catalog, params = config["catalog"], config["parameters"]
    assert catalog["qa_candidates"]["type"].endswith("CTSpatialVQADataset")
    assert catalog["qa_candidates"]["filepath"] == "/data/qa.jsonl"
    assert params["qa_filtering"]["categories"] == "given"
    assert params["qa_filtering"]["llm"]["filter_prompt"] == "spatial_filter_v1"  # soft merge
    gen = params["qa_generation"]
    assert gen["generator"] == "templates" and "{ct_rate_path}" in gen["image_path_template"]
    items, _ = generate_candidate_qa(
        [{"VolumeName": "valid_7_a_1.nii.gz", "Findings_EN": "Left lower lobe consolidation "
          "is present.", "Impressions_EN": "Not given."}], gen)
    assert items[0]["image_path"] == \
        "dataset/data_volumes/dataset/valid_fixed/valid_7/valid_7_a/valid_7_a_1.nii.gz"


@pytest.mark.slow
@pytest.mark.skipif(not SHARED.is_dir(), reason=f"CT-SpatialVQA reference not found at {SHARED}")
def test_full_qa_filtering_yields_the_benchmark_with_categories():
    from ct_spatial_bench.datasets.ct_spatialvqa_dataset import CTSpatialVQADataset

    config = _config("full")
    candidates = CTSpatialVQADataset(
        filepath=str(SHARED / "dataset" / "spatial_qa_filtered_full_nifti.jsonl")).load()
    kept, decisions = filter_spatial_questions(candidates, config["parameters"]["qa_filtering"])
    assert len(kept) == len(decisions) == 9077
    assert [k["qa_id"] for k in kept] == [c["qa_id"] for c in candidates]
    by_id = {k["qa_id"]: k for k in kept}
    assert by_id["valid_1000_a_1.nii.gz::0"]["categories"] == [
        "Medial-Lateral Orientation (Centricity)", "Adjacency & Containment"]
    sources = {k["meta"]["categories_from"] for k in kept}
    assert sources == {"gemini-2.5-flash (CT-SpatialVQA)", "rules"}  # rules for 9 untagged
