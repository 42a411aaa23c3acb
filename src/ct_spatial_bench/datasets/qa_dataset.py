"""QA items from any accepted layout, checked and given stable ``qa_id`` values."""

from __future__ import annotations

from pathlib import Path

from ct_spatial_bench.datasets.jsonlines_dataset import JsonLinesDataset
from ct_spatial_bench.records import QAItem, load_qa_items


class QADataset(JsonLinesDataset):
    """Loads ``QAItem`` records from JSON Lines, a JSON list, CSV, or a folder of those; saves
    them (or rows) as JSON Lines.

    Rows in the seeds' ``{image_path, question, answer, meta}`` form and upstream's
    ``{case_id, image_path, question, answer}`` form are accepted and normalised to full QA items;
    a missing field or malformed line is an error naming the file and line. A canonical file
    loads and saves back byte for byte.
    """

    def _load(self) -> list[QAItem]:
        return load_qa_items(self._filepath)

    def _exists(self) -> bool:
        return Path(self._filepath).exists()
