"""Judging's planning, shared by the run and its dry run: the join of predictions to the QA (by
``qa_id``), the tasks a cached judge still has to ask (``pending_tasks``), what that will cost
before it runs (the plan the dry run prints), and what it cost after (token usage).

The plan counts, per judge, the calls the cache cannot answer and their estimated prompt and
output tokens (about four characters a token; the output is the prompt file's budget), so a run
over 220,000 items can be priced before a single paid call.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from ct_spatial_bench.judges.base import CachedJudge, Judge
from ct_spatial_bench.records import (ERROR, FAILED, Prediction, QAItem, RecordError, Verdict,
                                      entry_of, index_by, qa_item)
from ct_spatial_bench.secrets import redact_text


Joined = tuple[QAItem, Prediction]  # one prediction and the question it answers


def join_to_qa(qa_items: Sequence[Mapping[str, Any]],
               predictions: Sequence[Mapping[str, Any]]) -> list[Joined]:
    """``(QAItem, Prediction)`` per prediction, joined by ``qa_id``; a prediction for a question
    the benchmark does not have is an error naming it. Rows (a test's, a caller's) become records
    here, checked as the datasets check them."""
    qa_by_id = index_by([qa_item(item, "benchmark QA") for item in qa_items],
                        source="benchmark QA")
    joined = []
    for i, row in enumerate(predictions, start=1):
        pred = Prediction.from_dict(row, f"predictions, item {i}")
        item = qa_by_id.get(pred.qa_id)
        if item is None:
            raise RecordError(f"prediction of {entry_of(pred)} for unknown qa_id {pred.qa_id!r}")
        joined.append((item, pred))
    return joined


def task_of(judge: CachedJudge, item: QAItem | Mapping[str, Any],
            pred: Prediction | Mapping[str, Any]) -> Any:
    """The engine task (with its cache key) for one prediction of one cached judge."""
    from ct_spatial_bench.judges.cache import cache_key, judge_identity
    from ct_spatial_bench.judges.loop import Task

    item, pred = qa_item(item), Prediction.from_dict(pred)  # a row too (a test's, a script's)
    question, answer, prediction = item.question, item.answer, pred.prediction or ""
    key = cache_key(judge_identity(judge), question, answer, prediction)
    return Task(key=key, question=question, answer=answer, prediction=prediction)


def is_sent(pred: Prediction | Mapping[str, Any], judge: Any = None) -> bool:
    """Whether a prediction goes to a judge: an answer (status ok) that says something, or any
    answer for a judge that judges empty ones (``judge_empty_predictions``)."""
    pred = Prediction.from_dict(pred)
    if pred.status == ERROR:
        return False
    return getattr(judge, "judge_empty_predictions", False) or \
        bool((pred.prediction or "").strip())


def pending_tasks(judge: CachedJudge, joined: Sequence[Joined], cache: Any,
                  refresh: bool | str = False) -> tuple[list[Any], dict[str, dict[str, Any]]]:
    """(tasks to ask, verdicts already cached) for one judge; each distinct task once.

    A cached reply read by another parser version is read again from its raw text here (and the
    cache row updated), so a stricter parser costs nothing; ``refresh="failed"`` then asks again
    what is still failed.
    """
    from ct_spatial_bench.judges.loop import BOOKKEEPING, reread
    from ct_spatial_bench.judges.parsing import PARSER_VERSION

    to_ask: dict[str, Any] = {}
    cached: dict[str, dict[str, Any]] = {}
    for item, pred in joined:
        if not is_sent(pred, judge):
            continue
        task = task_of(judge, item, pred)
        if task.key in to_ask or task.key in cached:
            continue
        hit = None if refresh is True else cache.get(task.key)
        if hit is not None and hit["parser_version"] != PARSER_VERSION and hit["raw"] and \
                _rereadable(judge, hit):
            size = max(hit["batch_size"], 1)
            again = reread(judge, hit["raw"], max(hit["item_index"], 0), size)
            hit = {**hit, "verdict": again.verdict, "reason": redact_text(again.reason),
                   "parser_version": PARSER_VERSION}
            cache.put(task.key, judge.provider, judge.model, judge.prompt_version,
                      **{k: hit[k] for k in ("verdict", "reason", "raw", "tokens", "latency_s",
                                             *BOOKKEEPING)})
        if hit is not None and not (refresh == FAILED and hit["verdict"] == FAILED):
            cached[task.key] = {k: v for k, v in hit.items() if k not in BOOKKEEPING}
        else:
            to_ask[task.key] = task
    return list(to_ask.values()), cached


def _rereadable(judge: CachedJudge, hit: dict[str, Any]) -> bool:
    """Whether a cached raw reply can be read again: not escaped bytes (batch_size 0), and for a
    batch reply only when its size is known (its numbering is checked against it)."""
    if hit["batch_size"] == 0:
        return False
    return judge.prompt.kind != "batch" or (hit["item_index"] >= 0 and hit["batch_size"] > 0)



def plan_judging(judges: Sequence[Judge], qa_items: Sequence[Mapping[str, Any]],
                 predictions: Sequence[Mapping[str, Any]], cache_path: str | Path | None = None,
                 refresh: bool | str = False, journal_mode: str | None = "auto"
                 ) -> list[dict[str, Any]]:
    """One row per cached (paid) judge: items, cached, calls and estimated tokens of what is left
    to ask."""
    from ct_spatial_bench.judges.cache import VerdictCache
    from ct_spatial_bench.judges.loop import estimated_call_tokens

    joined = join_to_qa(qa_items, predictions)
    rows = []
    with VerdictCache(cache_path, journal_mode) as cache:
        for judge in (j for j in judges if j.cached):
            tasks, cached = pending_tasks(judge, joined, cache, refresh)
            size = judge.batch_size
            batches = [tasks[i:i + size] for i in range(0, len(tasks), size)]
            prompt_tokens = output_tokens = 0
            for batch in batches:
                p, o = estimated_call_tokens(
                    judge, [(t.question, t.answer, t.prediction) for t in batch])
                prompt_tokens, output_tokens = prompt_tokens + p, output_tokens + o
            rows.append({"judge": judge.name, "judge_model": judge.model,
                         "prompt_version": judge.prompt_version, "answers": len(joined),
                         "items": len(tasks) + len(cached), "cached": len(cached),
                         "calls": len(batches), "est_prompt_tokens": prompt_tokens,
                         "est_output_tokens": output_tokens,
                         "est_total_tokens": prompt_tokens + output_tokens})
    return rows


def estimated_cost(row: Mapping[str, Any], prices: Mapping[str, Any] | None) -> float | None:
    """US dollars of a plan row at ``prices[judge_model] = {prompt, output}`` per million
    tokens; None where the model has no price."""
    price = (prices or {}).get(row["judge_model"])
    if not price:
        return None
    return (row["est_prompt_tokens"] * float(price["prompt"])
            + row["est_output_tokens"] * float(price["output"])) / 1e6


def format_plan(rows: Sequence[dict[str, Any]], prices: Mapping[str, Any] | None = None) -> str:
    """The plan as a table: per judge the answers to judge (the preflight's "at most" figure),
    the distinct (question, answer, prediction) items among them, those cached, the calls left
    (a call may carry a batch) and their estimated tokens and cost; a total row under several."""
    if not rows:
        return "judging plan: no LLM judge, nothing to spend"
    lines = ["judging plan (tokens estimated at ~4 characters a token; cost at judging.prices):",
             f"{'judge':<18}{'model':<22}{'answers':>9}{'distinct':>9}{'cached':>8}{'calls':>8}"
             f"{'prompt tok':>12}{'output tok':>12}{'est. USD':>10}"]

    def line(label: str, model: str, r: Mapping[str, Any], cost: float | None) -> str:
        return (f"{label:<18}{model:<22}{r.get('answers', r['items']):>9}{r['items']:>9}"
                f"{r['cached']:>8}{r['calls']:>8}{r['est_prompt_tokens']:>12}"
                f"{r['est_output_tokens']:>12}{'?' if cost is None else f'{cost:.4f}':>10}")

    costs = [estimated_cost(r, prices) for r in rows]
    lines += [line(r["judge"], r["judge_model"], r, cost) for r, cost in zip(rows, costs)]
    if len(rows) > 1:
        total = {name: sum(r.get(name, r["items"] if name == "answers" else 0) for r in rows)
                 for name in ("answers", "items", "cached", "calls", "est_prompt_tokens",
                              "est_output_tokens")}
        lines.append(line("total", "", total, None if None in costs else sum(costs)))
    return "\n".join(lines)


def token_usage(verdicts: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Per judge: verdicts, failed, and the prompt/completion/total tokens their calls cost.

    A cached verdict carries the tokens its original call cost, so this is the cost of the
    verdicts in hand, whether paid in this run or an earlier one.
    """
    totals: dict[tuple[str, str], dict[str, Any]] = {}
    sums: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for i, row in enumerate(verdicts, start=1):
        v = Verdict.from_dict(row, f"verdict {i}")  # a row too (a test's, a script's)
        key = (v.judge, v.judge_model)
        usage = totals.setdefault(key, {"judge": key[0], "judge_model": key[1],
                                        "verdicts": 0, "failed": 0})
        usage["verdicts"] += 1
        usage["failed"] += v.verdict == FAILED
        for name, value in (v.tokens or {}).items():
            sums[key][name] += int(value)
    return [{**usage, "prompt_tokens": sums[key]["prompt"],
             "completion_tokens": sums[key]["completion"], "total_tokens": sums[key]["total"]}
            for key, usage in sorted(totals.items())]
