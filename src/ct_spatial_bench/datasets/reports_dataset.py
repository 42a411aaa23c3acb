"""Radiology reports from CT-RATE's CSV, CT-SpatialVQA's JSON or JSON Lines, one row per case."""

from __future__ import annotations

from typing import Any

from ct_spatial_bench.datasets.jsonlines_dataset import JsonLinesDataset


class RadiologyReportsDataset(JsonLinesDataset):
    """Loads report records (``case_id, findings, impressions, ...``); saves JSON Lines.

    The file's form follows its suffix: ``.csv`` is CT-RATE's ``validation_reports.csv``
    (``VolumeName, ..., Findings_EN, Impressions_EN``, "Not given." read as empty), ``.json`` is
    CT-SpatialVQA's ``{case_id: {Findings_EN, Impressions_EN}}``, anything else JSON Lines.
    """

    def _load(self) -> list[dict[str, Any]]:
        from ct_spatial_bench.curation.reports import load_reports

        return load_reports(self._filepath)
