"""JSON Lines of one record type (verdicts, jury decisions), loaded as typed records."""

from __future__ import annotations

from typing import Any

from ct_spatial_bench.datasets.jsonlines_dataset import JsonLinesDataset
from ct_spatial_bench.records import Decision, Prediction, QAItem, Verdict, numbered_jsonl

# ``record:`` in a catalog entry -> the record its rows hold.
RECORD_TYPES = {"verdict": Verdict, "decision": Decision, "prediction": Prediction,
                "qa_item": QAItem}


class RecordsDataset(JsonLinesDataset):
    """Loads a list of ``record`` records (each row checked, a bad one named by file and line);
    saves records or rows. A file loads and saves back byte for byte (``records._Record``).

    Example catalog entry::

        verdicts:
          type: ct_spatial_bench.datasets.RecordsDataset
          filepath: data/07_model_output/verdicts.jsonl
          record: verdict
    """

    def __init__(self, filepath: str, record: str, read_only: bool = False,
                 metadata: dict[str, Any] | None = None) -> None:
        if record not in RECORD_TYPES:
            raise ValueError(f"{filepath}: record {record!r} is not one of {sorted(RECORD_TYPES)}")
        super().__init__(filepath, read_only=read_only, metadata=metadata)
        self._record = record

    def _load(self) -> list[Any]:
        cls = RECORD_TYPES[self._record]
        return [cls.from_dict(row, f"{self._filepath}:{line}")
                for line, row in numbered_jsonl(self._filepath)]

    def _describe(self) -> dict[str, Any]:
        return {**super()._describe(), "record": self._record}
