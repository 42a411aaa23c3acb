"""Jury rules over several judges' verdicts, and how far the judges agree.

A verdict ``failed`` means the judge could not decide (an API error, an unparseable reply); it is
not a vote, so it is dropped before any rule is applied. An item none of whose verdicts is usable
is ``failed`` for the jury too. Verdicts are grouped by the key (entry, qa_id), the entry being
the model under its variant (``records.entry_of``), never by position: upstream's M3D and
Med3DVLM jury figures are wrong because a shorter verdict file was zipped with the others by
position.

``upstream_avg3`` is upstream's scoring, kept as an option for comparability (``protocol:
upstream``): every judge of the jury has a vote, a failed or missing one counts 0, the mean is
floored to two decimals (build_correctness_matrix.py) and the item is correct when it is >= 0.66
(compute_llm_jury_accuracy.py). An item no judge gave any verdict on is still absent.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from ct_spatial_bench.statistics import cohen_kappa  # noqa: F401 (re-exported)
from ct_spatial_bench.records import (CORRECT, FAILED, INCORRECT, Decision, ItemKey, Verdict,
                                      index_by_item)

RULES = ("majority", "strict", "mean066", "upstream_avg3")
MEAN_THRESHOLD = 0.66  # upstream: correct when the mean of the judges' votes is >= 0.66


def verdicts_by_item(
    verdicts: Iterable[Mapping[str, Any]], judges: Sequence[str] | None = None
) -> dict[ItemKey, dict[str, str]]:
    """``{(entry, qa_id): {judge: verdict}}`` for the chosen judges; a repeated verdict is an error.

    A repeat would mean two runs of one judge were concatenated, and silently keeping either would
    make the result depend on file order. Items come in the order their first verdict does.
    """
    wanted = set(judges) if judges is not None else None
    chosen = []
    for i, row in enumerate(verdicts, start=1):
        verdict = Verdict.from_dict(row, where=f"verdict {i}")  # checked; a record as it is
        if wanted is None or verdict.judge in wanted:
            chosen.append(verdict)
    grouped: dict[ItemKey, dict[str, str]] = {v.key: {} for v in chosen}
    for judge in dict.fromkeys(v.judge for v in chosen):
        mine = [v for v in chosen if v.judge == judge]
        for key, verdict in index_by_item(mine, f"verdicts of judge {judge!r}", "verdict").items():
            grouped[key][judge] = verdict
    return grouped


def upstream_avg3(votes: Sequence[str], n_judges: int) -> str:
    """Upstream's avg3: correct votes over ``n_judges`` (failed or missing: 0), floored to two
    decimals, correct when >= 0.66. Never failed: upstream scored a judge's null as a 0."""
    average = sum(v == CORRECT for v in votes) / n_judges
    average = math.floor(average * 100.0) / 100.0
    return CORRECT if average >= MEAN_THRESHOLD else INCORRECT


def decide(votes: Sequence[str], rule: str, n_judges: int | None = None) -> str:
    """Apply ``rule`` to one item's verdicts (``n_judges``: the jury's size, for upstream_avg3;
    None: the votes given).

    majority: correct when more usable votes say correct than incorrect; a tie is incorrect,
    because a jury that cannot agree has not established the answer is right.
    strict: correct only when every usable vote says correct.
    mean066: correct when the share of correct votes is >= 0.66 (upstream's rule; with three
    judges it is two of three, with two judges both).
    With a single usable vote every rule returns that vote.
    """
    if rule not in RULES:
        raise ValueError(f"unknown jury rule {rule!r}; expected one of {RULES}")
    if rule == "upstream_avg3":
        return upstream_avg3(votes, n_judges or len(votes))
    usable = [v for v in votes if v != FAILED]
    if not usable:
        return FAILED
    n_correct = sum(v == CORRECT for v in usable)
    if rule == "majority":
        ok = n_correct > len(usable) - n_correct
    elif rule == "strict":
        ok = n_correct == len(usable)
    else:
        ok = n_correct / len(usable) >= MEAN_THRESHOLD
    return CORRECT if ok else INCORRECT


def jury_decisions(
    verdicts: Iterable[dict[str, Any]],
    judges: Sequence[str] | None = None,
    rule: str = "majority",
) -> dict[ItemKey, str]:
    """``{(entry, qa_id): correct | incorrect | failed}`` by ``rule`` over ``judges`` (None: all).

    Only items some chosen judge gave a verdict on appear; an item with no verdict at all is absent
    (the accuracy counts treat an absent decision as failed). Under ``upstream_avg3`` the jury is
    ``judges`` (None: every judge found), and a judge without a verdict on an item votes 0.
    """
    if rule not in RULES:
        raise ValueError(f"unknown jury rule {rule!r}; expected one of {RULES}")
    grouped = verdicts_by_item(verdicts, judges)
    n_judges = None
    if rule == "upstream_avg3":
        n_judges = len(judges) if judges is not None else len(
            {judge for per_judge in grouped.values() for judge in per_judge})
    return {key: decide(list(per_judge.values()), rule, n_judges)
            for key, per_judge in grouped.items()}


def jury_decision_rows(
    verdicts: Iterable[Mapping[str, Any]],
    judges: Sequence[str] | None = None,
    rule: str = "majority",
) -> list[Decision]:
    """``jury_decisions`` as ``records.Decision`` records, sorted by (entry, qa_id); each
    carries its entry's model and variant as the verdicts do (a blind control's decision is
    model ``m3d``, variant ``blind``)."""
    verdicts = [Verdict.from_dict(row, where=f"verdict {i}") for i, row in
                enumerate(verdicts, start=1)]
    model_and_variant = {v.key[0]: (v.model, v.variant) for v in verdicts}
    rows = []
    for (entry, qa_id), decision in sorted(jury_decisions(verdicts, judges, rule).items()):
        model, variant = model_and_variant[entry]
        rows.append(Decision(model, qa_id, rule, decision, variant=variant))
    return rows


def judge_agreement(
    verdicts: Iterable[dict[str, Any]], by_model: bool = False
) -> list[dict[str, Any]]:
    """Pairwise agreement of the judges: judge_a, judge_b, n, kappa, agreement (raw share).

    Each pair is compared on the items both judged usefully (neither verdict failed), matched by
    (model, qa_id). With ``by_model`` there is one row per model and pair, with a ``model`` field.
    """
    grouped = verdicts_by_item(verdicts)
    judges = sorted({j for per_judge in grouped.values() for j in per_judge})
    models = sorted({model for model, _ in grouped}) if by_model else [None]
    rows = []
    for model in models:
        for judge_a, judge_b in itertools.combinations(judges, 2):
            pairs = [
                (per_judge[judge_a], per_judge[judge_b])
                for (item_model, _), per_judge in sorted(grouped.items())
                if (model is None or item_model == model)
                and per_judge.get(judge_a, FAILED) != FAILED
                and per_judge.get(judge_b, FAILED) != FAILED
            ]
            a = [p[0] for p in pairs]
            b = [p[1] for p in pairs]
            row: dict[str, Any] = {} if model is None else {"model": model}
            row.update(
                judge_a=judge_a, judge_b=judge_b, n=len(pairs),
                kappa=cohen_kappa(a, b),
                agreement=float(np.mean([x == y for x, y in pairs])) if pairs else float("nan"),
            )
            rows.append(row)
    return rows
