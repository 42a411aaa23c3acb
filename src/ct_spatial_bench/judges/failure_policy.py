"""When a judge's run is not a result: ``judging.max_failed_share``.

A judge that failed (unreadable replies, refusals, no reply, a rejected key) on more than that
share of the items sent to it is no jury member: its run must not pass for a finished one. A
prediction that errored was never sent to a judge; its ``failed`` verdict is the model's failure
and is not counted here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ct_spatial_bench.records import FAILED

MAX_FAILED_SHARE = 0.05  # judging.max_failed_share: above it a judge's run is not a result
PREDICTION_ERROR = "prediction error"  # the reason of a verdict no judge was asked for


class JudgeFailureShareError(RuntimeError):
    """A judge failed on more than ``judging.max_failed_share`` of the items it was asked."""


def failed_shares(verdicts: Sequence[dict[str, Any]]) -> dict[str, tuple[int, int]]:
    """``{judge: (failed, asked)}``: verdicts of predictions that were sent to the judge (a
    prediction that errored was not, and is the model's failure, not the judge's)."""
    counts: dict[str, list[int]] = {}
    for verdict in verdicts:
        if str(verdict.get("reason") or "").startswith(PREDICTION_ERROR):
            continue
        row = counts.setdefault(verdict["judge"], [0, 0])
        row[0] += verdict["verdict"] == FAILED
        row[1] += 1
    return {judge: (failed, asked) for judge, (failed, asked) in counts.items()}


def check_failed_share(verdicts: Sequence[dict[str, Any]],
                       max_failed_share: float = MAX_FAILED_SHARE) -> None:
    """Raise ``JudgeFailureShareError`` naming each judge whose failed share is above
    ``max_failed_share`` and its share (a judge whose replies are unreadable, or whose key was
    refused, is no jury member: its run must not pass for a finished one)."""
    over = [(judge, failed, asked) for judge, (failed, asked) in failed_shares(verdicts).items()
            if asked and failed / asked > float(max_failed_share)]
    if over:
        named = "; ".join(f"judge {judge} failed {failed} of {asked} items ({failed / asked:.1%})"
                          for judge, failed, asked in over)
        raise JudgeFailureShareError(
            f"{named}: above judging.max_failed_share {float(max_failed_share):.1%}. The "
            "verdicts were written; see their reasons, then rerun (with judging.refresh=failed "
            "to ask only the failed items again)")
