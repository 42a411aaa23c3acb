"""A dataset that loads as None while its file does not exist yet.

For results that a later, optional pipeline writes and an earlier one shows when present (the
probes' tables in the report): the report is written either way, and Kedro still orders the
writer before the reader when both run together, because it is one catalog entry.
"""

from __future__ import annotations

from typing import Any

from kedro.io import AbstractDataset


class OptionalDataset(AbstractDataset[Any, Any]):
    """Wraps another dataset (``dataset``: its catalog config); ``load`` returns None when the
    wrapped dataset does not exist.

    Example catalog entry::

        probe_robustness:
          type: ct_spatial_bench.datasets.optional_dataset.OptionalDataset
          dataset: {type: pandas.CSVDataset, filepath: data/08_reporting/probes/robustness.csv}
    """

    def __init__(self, dataset: dict[str, Any], metadata: dict[str, Any] | None = None) -> None:
        from kedro.io.core import parse_dataset_definition

        cls, config = parse_dataset_definition(dict(dataset))
        self._dataset = cls(**config)
        self.metadata = metadata

    def _load(self) -> Any:
        return self._dataset.load() if self._dataset.exists() else None

    def _save(self, data: Any) -> None:
        self._dataset.save(data)

    def _exists(self) -> bool:
        return self._dataset.exists()

    def _describe(self) -> dict[str, Any]:
        return {"dataset": self._dataset._describe()}  # noqa: SLF001 - describe the wrapped one
