"""QA items from any accepted layout, checked and given stable ``qa_id`` values."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ct_spatial_bench.datasets.jsonlines_dataset import JsonLinesDataset
from ct_spatial_bench.records import load_qa_items


class QADataset(JsonLinesDataset):
    """Loads QA items from JSON Lines, a JSON list, CSV, or a folder of those; saves JSON Lines.

    Rows in the seeds' ``{image_path, question, answer, meta}`` form and upstream's
    ``{case_id, image_path, question, answer}`` form are accepted and normalised to full QA items;
    a missing field or malformed line is an error naming the file and line.
    """

    def _load(self) -> list[dict[str, Any]]:
        return load_qa_items(self._filepath)

    def _exists(self) -> bool:
        return Path(self._filepath).exists()
