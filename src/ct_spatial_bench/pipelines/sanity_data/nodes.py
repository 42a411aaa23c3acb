"""Nodes that write the embedded sanity split: phantoms, findings, reports and templated QA."""

from __future__ import annotations

import logging
from typing import Any

logger = logging.getLogger(__name__)


def generate_sanity_split(params: dict[str, Any]) -> tuple[dict, list, list, list, dict]:
    """Synthesise the phantom CTs with exact spatial ground truth, deterministically from a seed,
    and their label maps (tissues, lobes, findings) for the mask-derived track."""
    from ct_spatial_bench.synthetic import generate_sanity_split as generate

    split = generate(**params)
    logger.info(
        "sanity split: %d volumes, %d findings, %d candidate questions",
        len(split.volumes), len(split.findings), len(split.qa_candidates),
    )
    return split.volumes, split.findings, split.reports, split.qa_candidates, split.label_maps


def generate_answer_prior(split_params: dict[str, Any], prior_params: dict[str, Any]) -> list:
    """Questions about phantoms drawn after the split's own, for the blind baseline's prior."""
    from ct_spatial_bench.synthetic import generate_prior_questions

    questions = generate_prior_questions(
        int(prior_params["n_cases"]), first_index=int(split_params.get("n_cases", 10)),
        **{k: v for k, v in split_params.items() if k != "n_cases"})
    logger.info("blind answer prior: %d questions on %d unseen phantoms",
                len(questions), prior_params["n_cases"])
    return questions
