"""A model's predictions: one JSON Lines file, or one part per shard of a sharded run."""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any

from ct_spatial_bench.datasets.jsonlines_dataset import JsonLinesDataset


class PredictionsDataset(JsonLinesDataset):
    """``filepath`` holds the model's (merged) predictions; a shard's run saves a
    ``sharding.PredictionPart``, which goes to ``parts_path/shard-<i>-of-<n>.jsonl``
    instead, leaving the merged file alone until ``merge_<model>`` writes it.

    Example catalog entry::

        "{model}.predictions":
          type: ct_spatial_bench.datasets.predictions_dataset.PredictionsDataset
          filepath: data/07_model_output/predictions/{model}.jsonl
          parts_path: data/07_model_output/prediction_parts/{model}
    """

    def __init__(self, filepath: str, parts_path: str | None = None, read_only: bool = False,
                 metadata: dict[str, Any] | None = None) -> None:
        super().__init__(filepath, read_only=read_only, metadata=metadata)
        self._parts_path = PurePosixPath(parts_path) if parts_path else None

    def _load(self) -> list[Any]:
        """``Prediction`` records, each checked at the door (``records.checked_prediction``: an
        unusable value becomes a data error naming the file and line); a second line for the same
        (model, variant, qa_id) raises naming both lines (a probe's file holds one model's
        answers once per variant). Rows without model and qa_id (the preprocessing manifest's,
        which shares the parts mechanism) pass as the dicts they are."""
        from ct_spatial_bench.records import RecordError, checked_prediction, numbered_jsonl

        records, first_line = [], {}
        for line_no, record in numbered_jsonl(self._filepath):
            key = (record.get("model"), record.get("qa_id")) if isinstance(record, dict) else None
            answer = None if key is None else (*key, record.get("variant"))
            if answer is not None and answer in first_line:
                variant = f", variant {answer[2]!r}" if answer[2] is not None else ""
                raise RecordError(f"{self._filepath}:{line_no}: duplicate prediction for model "
                                  f"{key[0]!r}{variant}, qa_id {key[1]!r} (first at line "
                                  f"{first_line[answer]})")
            if answer is not None:
                first_line[answer] = line_no
            if key is not None and None not in key:  # a prediction (not a manifest row)
                record = checked_prediction(record, f"{self._filepath}:{line_no}")
            records.append(record)
        return records

    def location_of(self, data: list[dict[str, Any]]) -> str:
        """The file ``data`` is saved to: the merged file, or a shard's part."""
        name = getattr(data, "name", None)  # a PredictionPart names its shard
        if name is None:
            return str(self._filepath)
        if self._parts_path is None:
            raise ValueError(f"{self._filepath}: a shard's predictions ({name}) need the "
                             "dataset's parts_path")
        return str(self._parts_path / f"{name}.jsonl")

    def _save(self, data: list[dict[str, Any]]) -> None:
        location = self.location_of(data)
        if location == str(self._filepath):
            super()._save(data)
            return
        JsonLinesDataset(location)._save(list(data))

    def _describe(self) -> dict[str, Any]:
        return {**super()._describe(), "parts_path": str(self._parts_path)}
