"""Candidate QA pairs from radiology reports: by an LLM (upstream's GPT-4o step) or by templates.

Each report yields QA items in the project's record form, ``qa_id`` = ``<case_id>::<index>`` in
reply order, ``source`` naming the generator, and ``meta`` holding the generator, its prompt or
template version and the decoding settings. A report whose reply is unusable is logged (with the
case id and the reason) and skipped; the other reports go on.
"""

from __future__ import annotations

import logging
from typing import Any

from ct_spatial_bench.curation.llm_client import (
    LLMConfig, Prompt, ReplyCache, ReplyError, cached_json_reply, make_client)
from ct_spatial_bench.curation.reports import report_text
from ct_spatial_bench.curation.templated import (
    GENERATOR_NAME, GENERATOR_VERSION, templated_qa_pairs)
from ct_spatial_bench.records import make_qa_id

logger = logging.getLogger(__name__)

GENERATORS = ("templates", "llm")


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


def _items(report: dict[str, Any], pairs: list[dict[str, Any]], source: str,
           meta: dict[str, Any], image_path: str) -> list[dict[str, Any]]:
    items = []
    for index, pair in enumerate(pairs):
        extra = {k: v for k, v in pair.items() if k not in ("question", "answer")}
        items.append({
            "qa_id": make_qa_id(report["case_id"], index),
            "case_id": report["case_id"],
            "image_path": image_path,
            "question": pair["question"],
            "answer": pair["answer"],
            "categories": [],
            "source": source,
            "meta": {**meta, **extra},
        })
    return items


def generate_qa(
    reports: list[dict[str, Any]],
    generator: str = "templates",
    *,
    prompt: Prompt | None = None,
    llm: LLMConfig | None = None,
    cache_path: str | None = None,
    min_pairs: int = 7,
    max_pairs: int = 10,
    image_path_of=lambda report: report.get("image_path", ""),
    client: Any = None,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """QA items for every report, and one log row per report (status, count, cache, error).

    ``generator="llm"`` needs ``prompt`` and ``llm``; replies are cached at ``cache_path``.
    ``min_pairs`` applies to LLM replies only (the prompt asks for 7-10); templates yield what
    the report's spatial statements allow, possibly none.
    """
    from tqdm.auto import tqdm

    if generator not in GENERATORS:
        raise ValueError(f"unknown generator {generator!r}; expected one of {GENERATORS}")
    if generator == "llm":
        if prompt is None or llm is None:
            raise ValueError("the llm generator needs a prompt and LLM settings")
        cache = ReplyCache(cache_path)
        client = client if client is not None else make_client(llm)
    items: list[dict[str, Any]] = []
    log: list[dict[str, Any]] = []
    for report in tqdm(reports, desc=f"qa_generation ({generator})", leave=False):
        text = report_text(report)
        row: dict[str, Any] = {"case_id": report["case_id"], "generator": generator,
                               "status": "ok", "n_pairs": 0, "error": None}
        if not text:
            row.update(status="skipped", error="report has no Findings or Impressions")
            log.append(row)
            continue
        if generator == "templates":
            pairs = templated_qa_pairs(text, max_pairs=max_pairs)
            meta = {"generator": GENERATOR_NAME, "generator_version": GENERATOR_VERSION}
        else:
            try:
                pairs, info = cached_json_reply(
                    client, llm, cache, prompt, text,
                    lambda reply: validate_qa_reply(reply, min_pairs, max_pairs),
                    report=text, min_pairs=str(min_pairs), max_pairs=str(max_pairs))
            except Exception as exc:  # noqa: BLE001 - one bad reply must not end the run
                row.update(status="failed", error=f"{type(exc).__name__}: {exc}")
                logger.error("qa_generation %s: %s", report["case_id"], row["error"])
                log.append(row)
                continue
            row.update(cached=info["cached"], tokens=info.get("tokens"))
            meta = {"generator": f"llm:{llm.model}", "prompt_version": prompt.version,
                    "generation": llm.settings()}
        source = meta["generator"]
        items.extend(_items(report, pairs, source, meta, image_path_of(report)))
        row["n_pairs"] = len(pairs)
        log.append(row)
    failed = sum(r["status"] == "failed" for r in log)
    logger.info("qa_generation: %d QA pairs from %d reports (%d failed)",
                len(items), len(reports), failed)
    return items, log
