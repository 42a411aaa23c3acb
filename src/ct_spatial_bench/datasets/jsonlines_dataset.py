"""Lists of records stored as JSON Lines, the project's canonical exchange format."""

from __future__ import annotations

import json
from pathlib import Path, PurePosixPath
from typing import Any

from kedro.io import AbstractDataset

from ct_spatial_bench.datasets._io import refuse_if_read_only
from ct_spatial_bench.fileio import atomic_write_bytes
from ct_spatial_bench.records import as_rows, iter_jsonl


class JsonLinesDataset(AbstractDataset[list[dict[str, Any]], list[dict[str, Any]]]):
    """Loads a list of dicts and saves a list of dicts or records (``records``: each written as
    its ``to_dict()`` row), one JSON object per line.

    A bad line raises an error that names the file and line. Saves are atomic, so a killed run
    never leaves a truncated file, and redacted (``ct_spatial_bench.secrets``): no record written
    here carries an API key, whichever stage let one into an error text or a reply.
    ``read_only`` protects source data from being overwritten.

    Example catalog entry::

        verdicts:
          type: ct_spatial_bench.datasets.JsonLinesDataset
          filepath: data/07_model_output/verdicts.jsonl
    """

    def __init__(
        self,
        filepath: str,
        read_only: bool = False,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        self._filepath = PurePosixPath(filepath)
        self._read_only = read_only
        self.metadata = metadata

    def _load(self) -> list[dict[str, Any]]:
        return list(iter_jsonl(self._filepath))

    def _save(self, data: list[dict[str, Any]]) -> None:
        from ct_spatial_bench.secrets import redact

        refuse_if_read_only(self._read_only, self._filepath, "JSON Lines file")
        lines = [json.dumps(row, ensure_ascii=False, default=_json_default)
                 for row in redact(as_rows(data))]
        atomic_write_bytes(self._filepath, ("\n".join(lines) + ("\n" if lines else "")).encode())

    def _exists(self) -> bool:
        return Path(self._filepath).is_file()

    def _describe(self) -> dict[str, Any]:
        return {"filepath": str(self._filepath), "read_only": self._read_only}


def _json_default(value: Any) -> Any:
    """Let numpy scalars and arrays through ``json.dumps``."""
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, (set, frozenset, tuple)):
        return sorted(value) if isinstance(value, (set, frozenset)) else list(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")
