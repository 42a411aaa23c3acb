"""Candidate QA pairs from radiology reports: by an LLM (upstream's GPT-4o step) or by templates.

Each report yields QA items in the project's record form, ``qa_id`` = ``<case_id>::<index>`` in
reply order, ``source`` naming the generator, and ``meta`` holding the generator, its prompt or
template version and the decoding settings. LLM replies go through the shared provider layer
(``curation.llm_client.json_replies``: every report at once within the provider's limits, each
valid reply cached). A report whose reply is unusable is logged (with the case id and the
reason) and skipped; the other reports go on, and the next run asks for it again.
"""

from __future__ import annotations

import logging
from typing import Any

from ct_spatial_bench.curation.llm_client import CurationLLM, Prompt, ReplyError, json_replies
from ct_spatial_bench.curation.reports import report_text
from ct_spatial_bench.curation.templated import (
    GENERATOR_NAME,
    GENERATOR_VERSION,
    templated_qa_pairs,
)
from ct_spatial_bench.records import QAItem, make_qa_id

logger = logging.getLogger(__name__)

GENERATORS = ("templates", "llm")
FORMS = ("project", "upstream")  # upstream: qa_generation.py's request and reply (protocol)


def validate_qa_reply(reply: dict[str, Any], min_pairs: int = 1, max_pairs: int = 10
                      ) -> list[dict[str, str]]:
    """The ``qa_pairs`` of a reply: a list of ``{question, answer}`` with non-empty text.

    Fewer than ``min_pairs`` usable pairs is an error; pairs beyond ``max_pairs`` are dropped.
    Blank or duplicate questions are left out rather than failing the whole report.
    """
    pairs = reply.get("qa_pairs")
    if not isinstance(pairs, list):
        raise ReplyError("reply has no 'qa_pairs' list")
    usable, asked = [], set()
    for pair in pairs:
        if not isinstance(pair, dict):
            continue
        question, answer = pair.get("question"), pair.get("answer")
        if not (isinstance(question, str) and isinstance(answer, str)):
            continue
        question, answer = question.strip(), answer.strip()
        if question and answer and question.lower() not in asked:
            asked.add(question.lower())
            usable.append({"question": question, "answer": answer})
    if len(usable) < min_pairs:
        raise ReplyError(f"{len(usable)} usable QA pairs, at least {min_pairs} wanted")
    return usable[:max_pairs]


def validate_upstream_qa_reply(reply: list[Any]) -> list[dict[str, str]]:
    """Upstream's reply: a JSON list of ``{question, answer}``, every pair kept as written
    (upstream set no minimum or maximum); pairs without both texts are left out, and a reply
    with none is an error (upstream stored it as an ``error`` entry)."""
    pairs = [{"question": p["question"], "answer": p["answer"]} for p in reply
             if isinstance(p, dict) and isinstance(p.get("question"), str)
             and isinstance(p.get("answer"), str) and p["question"].strip()
             and p["answer"].strip()]
    if not pairs:
        raise ReplyError("reply has no {question, answer} pair")
    return pairs


def upstream_fields(report: dict[str, Any]) -> dict[str, str]:
    """The report as upstream's prompts carry it: findings and impressions as the file has them."""
    raw = report.get("raw") or {}
    return {"findings": raw.get("findings", report.get("findings", "")),
            "impressions": raw.get("impressions", report.get("impressions", ""))}


def _items(report: dict[str, Any], pairs: list[dict[str, Any]], source: str,
           meta: dict[str, Any], image_path: str) -> list[QAItem]:
    """One ``QAItem`` per pair, untagged; what a pair carries beside its texts (a template's
    name and statement) goes into ``meta``."""
    items = []
    for index, pair in enumerate(pairs):
        extra = {k: v for k, v in pair.items() if k not in ("question", "answer")}
        items.append(QAItem(
            qa_id=make_qa_id(report["case_id"], index),
            case_id=report["case_id"],
            image_path=image_path,
            question=pair["question"],
            answer=pair["answer"],
            categories=[],
            source=source,
            meta={**meta, **extra},
        ))
    return items


def generate_qa(
    reports: list[dict[str, Any]],
    generator: str = "templates",
    *,
    prompt: Prompt | None = None,
    llm: CurationLLM | None = None,
    cache_path: str | None = None,
    min_pairs: int = 7,
    max_pairs: int = 10,
    image_path_of=lambda report: report.get("image_path", ""),
    progress: bool = True,
    form: str = "project",
) -> tuple[list[QAItem], list[dict[str, Any]]]:
    """``QAItem`` records for every report, and one log row per report (status, count, cache,
    error).

    ``generator="llm"`` needs ``prompt`` and ``llm``; valid replies are cached at ``cache_path``
    (SQLite; None: in memory). ``min_pairs`` applies to LLM replies only (the prompt asks for
    7-10); templates yield what the report's spatial statements allow, possibly none.
    ``form="upstream"``: the prompt is filled with the report's raw findings and impressions and
    its reply read as upstream's (a JSON list, every pair kept); each item's ``meta`` keeps that
    report text for upstream's filter, which sends it with the pairs.
    """
    from tqdm.auto import tqdm

    if generator not in GENERATORS:
        raise ValueError(f"unknown generator {generator!r}; expected one of {GENERATORS}")
    if generator == "llm" and (prompt is None or llm is None):
        raise ValueError("the llm generator needs a prompt and an LLM")
    if form not in FORMS:
        raise ValueError(f"qa_generation.form {form!r} is not one of {FORMS}")
    texts = {report["case_id"]: report_text(report) for report in reports}
    replies = {}
    if generator == "llm":
        by_case = {report["case_id"]: report for report in reports}
        fields = {case_id: {"report": text, "min_pairs": str(min_pairs),
                            "max_pairs": str(max_pairs), **upstream_fields(by_case[case_id])}
                  for case_id, text in texts.items() if text}
        validate = (validate_upstream_qa_reply if form == "upstream"
                    else lambda reply: validate_qa_reply(reply, min_pairs, max_pairs))
        replies = json_replies(llm, prompt, fields, validate,
                               cache_path, desc="qa_generation (llm)", item_kind="report",
                               progress=progress)
    items: list[QAItem] = []
    log: list[dict[str, Any]] = []
    # The LLM's bar is the engine's; assembling its replies takes no time.
    for report in tqdm(reports, desc="qa_generation (templates)", leave=False,
                       disable=True if not progress or generator == "llm" else None):
        case_id, text = report["case_id"], texts[report["case_id"]]
        row: dict[str, Any] = {"case_id": case_id, "generator": generator,
                               "status": "ok", "n_pairs": 0, "error": None}
        if not text:
            row.update(status="skipped", error="report has no Findings or Impressions")
            log.append(row)
            continue
        if generator == "templates":
            pairs = templated_qa_pairs(text, max_pairs=max_pairs)
            meta = {"generator": GENERATOR_NAME, "generator_version": GENERATOR_VERSION}
        else:
            reply = replies[case_id]
            row.update(cached=reply.cached, tokens=reply.tokens)
            if reply.error:  # logged, naming the report, by json_replies
                row.update(status="failed", error=reply.error)
                log.append(row)
                continue
            pairs = reply.value
            meta = {"generator": llm.name, "prompt_version": prompt.version,
                    "generation": {**llm.settings(), **({"decoding": prompt.decoding}
                                                        if prompt.decoding is not None else {})}}
            if form == "upstream":  # upstream's filter sends the report with the pairs
                meta["report"] = upstream_fields(report)
        items.extend(_items(report, pairs, meta["generator"], meta, image_path_of(report)))
        row["n_pairs"] = len(pairs)
        log.append(row)
    failed = sum(r["status"] == "failed" for r in log)
    logger.info("qa_generation: %d QA pairs from %d reports (%d failed)",
                len(items), len(reports), failed)
    return items, log
