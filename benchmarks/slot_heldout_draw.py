"""Draw the held-out items of the slot-agreement check (unlabelled; labels are added by reading).

Items are drawn from CT-SpatialVQA's public prediction files (RadFM and Merlin, the only models
whose predictions upstream publishes), seed 2424, leaving out every item of the development set
(tests/data/slot_hand_labels.jsonl, matched by model, question, answer and prediction). Prints one
JSON row per item with an empty ``slot_label`` and ``reason`` for the reader to fill in.

    python benchmarks/slot_heldout_draw.py ../shared/reference/ct_spatialvqa 220 > draft.jsonl
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEVELOPMENT = ROOT / "tests" / "data" / "slot_hand_labels.jsonl"
SEED = 2424


def draw(reference: Path, count: int) -> list[dict]:
    """``count`` items drawn at random from both models' predictions, none from the development set."""
    taken = {
        (row["model"], row["question"], row["answer"], row["prediction"])
        for row in map(json.loads, DEVELOPMENT.read_text(encoding="utf-8").splitlines())
    }
    pool = []
    for model in ("radfm", "merlin"):
        path = reference / "predictions" / f"{model}_predictions_full.jsonl"
        for line in path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            key = (model, row["question"], row["answer"], row["prediction"])
            if key not in taken:
                pool.append({"model": model, "volume": Path(row["image_path"]).stem, "question": row["question"],
                             "answer": row["answer"], "prediction": row["prediction"]})
    return random.Random(SEED).sample(pool, count)


if __name__ == "__main__":
    for item in draw(Path(sys.argv[1]), int(sys.argv[2])):
        print(json.dumps({**item, "slot_label": "", "reason": ""}, ensure_ascii=False))
