"""CT-SpatialVQA's QA file as benchmark items, with its categories attached by key."""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from typing import Any

from ct_spatial_bench.datasets.qa_dataset import QADataset
from ct_spatial_bench.records import QAItem

CATEGORIES_FILENAME = "spatial_qa_filtered_full_with_categories.json"


class CTSpatialVQADataset(QADataset):
    """Loads ``spatial_qa_filtered_full_nifti.jsonl`` and attaches the Gemini categories.

    ``categories_filepath`` defaults to the categories file beside the QA file (the layout of the
    upstream repository's ``dataset/`` folder). The categories are matched by case + question +
    answer, and ``qa_id`` stays ``<case_id>::<index within case>`` of the QA file. A missing
    categories file is an error naming both paths; set ``categories_filepath: ""`` to load
    the questions without categories.

    Example catalog entry::

        qa_candidates:
          type: ct_spatial_bench.datasets.ct_spatialvqa_dataset.CTSpatialVQADataset
          filepath: /data/CT-SpatialVQA/dataset/spatial_qa_filtered_full_nifti.jsonl
          read_only: true
    """

    def __init__(self, filepath: str, categories_filepath: str | None = None,
                 read_only: bool = False, metadata: dict[str, Any] | None = None) -> None:
        super().__init__(filepath=filepath, read_only=read_only, metadata=metadata)
        if categories_filepath is None:
            categories_filepath = str(PurePosixPath(filepath).parent / CATEGORIES_FILENAME)
        self._categories_filepath = categories_filepath

    def companion_files(self) -> dict[str, str]:
        """Files the QA file needs beside it (the categories), for a check before a run."""
        return {"categories": str(self._categories_filepath)} if self._categories_filepath else {}

    def _load(self) -> list[QAItem]:
        from ct_spatial_bench.curation.upstream import attach_categories, load_categories_file

        items = super()._load()
        if not self._categories_filepath:
            return items
        if not Path(self._categories_filepath).exists():
            raise FileNotFoundError(
                f"categories file {self._categories_filepath} not found for QA file "
                f"{self._filepath}; set categories_filepath (or '' to load without categories)")
        data = load_categories_file(self._categories_filepath)
        return attach_categories(items, data, source=self._categories_filepath)

    def _describe(self) -> dict[str, Any]:
        return {**super()._describe(), "categories_filepath": self._categories_filepath}
