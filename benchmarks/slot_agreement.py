"""The spatial-slot score against 200 upstream items labelled by reading them.

tests/data/slot_hand_labels.jsonl holds 200 RadFM and Merlin predictions drawn at random (seed 24)
from CT-SpatialVQA's public files (a small excerpt, for this check), each labelled by hand before
the scorer was compared with it; the guide is tests/data/slot_labelling_guide.md. A label is the
item's slot outcome (agree, conflict, missing, hedge) or ``none`` where the reference names no
open slot; the decision is slot-correct (agree) or not. Before the scorer was compared with them:
0.775 and 0.915; after three rules drawn from the disagreements (a choice question gives no
value, a yes/no question answered yes/no asks no slot, "which side" asks only the side): 0.810
and 0.925, in-sample.

    python benchmarks/slot_agreement.py            # the two shares
    python benchmarks/slot_agreement.py --list     # and every disagreement
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
LABELS = ROOT / "tests" / "data" / "slot_hand_labels.jsonl"


def agreement(rows: list[dict]) -> tuple[float, float, list[tuple[dict, str]]]:
    """(share of slot labels agreeing, share of decisions agreeing, the disagreements)."""
    from ct_spatial_bench.metrics.slots import item_outcome, slot_outcomes

    same_label = same_decision = 0
    differ = []
    for row in rows:
        scored = item_outcome(slot_outcomes(row["question"], row["answer"], row["prediction"]))
        scored = scored or "none"
        same_label += scored == row["slot_label"]
        same_decision += (scored == "agree") == (row["slot_label"] == "agree")
        if scored != row["slot_label"]:
            differ.append((row, scored))
    return same_label / len(rows), same_decision / len(rows), differ


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--list", action="store_true", help="print every disagreement")
    args = parser.parse_args()
    rows = [json.loads(line) for line in LABELS.read_text(encoding="utf-8").splitlines()]
    labels, decisions, differ = agreement(rows)
    if args.list:
        for row, scored in differ:
            print(f"- hand {row['slot_label']} / scorer {scored}: Q {row['question']} | "
                  f"A {row['answer']} | P {row['prediction'][:120]!r} ({row['reason']})")
    print(f"slot labels agree: {labels:.3f} on {len(rows)} hand-labelled items; "
          f"decisions agree: {decisions:.3f}")


if __name__ == "__main__":
    main()
