"""Nodes that turn radiology reports into candidate QA pairs (LLM, or templates offline)."""

from __future__ import annotations

from typing import Any

from ct_spatial_bench.records import QAItem


def _image_path_of(template: str):
    """``report -> image_path``: the report's own, else ``template`` filled from its case id."""
    def image_path(report: dict[str, Any]) -> str:
        if report.get("image_path"):
            return report["image_path"]
        if not template:
            return ""
        fields = {"case_id": report["case_id"]}
        if "{ct_rate_path}" in template:
            from ct_spatial_bench.imaging.ct_rate import ct_rate_relative_path

            fields["ct_rate_path"] = ct_rate_relative_path(report["case_id"])
        return template.format(**fields)
    return image_path


def generate_candidate_qa(
    radiology_reports: Any, params: dict[str, Any], api_keys: dict[str, str | None] | None = None
) -> tuple[list[QAItem], list[dict[str, Any]]]:
    """Ask for QA pairs about each report; return the candidates (``QAItem`` records, for
    ``generated_qa_candidates``) and one log row per report.

    ``params.generator``: ``templates`` (offline, the default) or ``llm`` (``params.llm`` names
    the provider and its config, as for a judge; ``params.prompt`` names the prompt in
    conf/base/curation_prompts). ``api_keys`` are conf credentials' keys; an LLM whose key is
    absent falls back to the templates with a warning naming it.
    """
    from ct_spatial_bench.curation.generation import generate_qa
    from ct_spatial_bench.curation.llm_client import curation_llm, load_prompt
    from ct_spatial_bench.curation.reports import normalise_reports

    form = params.get("form", "project")  # upstream: qa_generation.py's request (protocol)
    reports = normalise_reports(radiology_reports, source="radiology_reports",
                                keep_raw=form == "upstream")
    generator = params.get("generator", "templates")
    llm_kwargs: dict[str, Any] = {}
    if generator == "llm":
        llm = curation_llm(params["llm"], api_keys, "qa_generation", "the templates generator")
        if llm is None:
            generator = "templates"
        else:
            llm_kwargs = {"prompt": load_prompt(params["prompt"]), "llm": llm,
                          "cache_path": params.get("cache_path")}
    return generate_qa(
        reports, generator, min_pairs=params.get("min_pairs", 7),
        max_pairs=params.get("max_pairs", 10),
        image_path_of=_image_path_of(params.get("image_path_template", "")), form=form,
        **llm_kwargs)


def filter_generated_questions(
    generated_candidates: list[QAItem], params: dict[str, Any],
    api_keys: dict[str, str | None] | None = None,
) -> tuple[list[QAItem], list[dict[str, Any]]]:
    """The generated candidates through the benchmark's spatial filter and tagger
    (``params:qa_filtering``): the generated benchmark and every candidate's decision."""
    from ct_spatial_bench.curation.filtering import filter_as_configured

    return filter_as_configured(generated_candidates, params, api_keys)
