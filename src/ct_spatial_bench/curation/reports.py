"""Radiology reports in the forms they ship in, normalised to one record per case.

Accepted forms:

* CT-RATE's CSV (``validation_reports.csv``): ``VolumeName, ClinicalInformation_EN,
  Technique_EN, Findings_EN, Impressions_EN``; CT-RATE writes ``Not given.`` for an empty field.
* CT-SpatialVQA's JSON (``validation_reports_output.json``): ``{case_id: {Findings_EN,
  Impressions_EN}}``.
* Rows (JSON Lines, a list, or a pandas DataFrame) with ``case_id`` and either the CT-RATE
  column names or the sanity split's ``findings_text`` / ``impressions_text``.

* Rows with upstream's qa_generation.py columns: ``file_name``, ``findings_en``, ``impressions_en``.

A report record: ``{case_id, findings, impressions, clinical_information, technique}``; with
``keep_raw`` also ``raw``: the findings and impressions exactly as the file has them (no
whitespace folding, "Not given." kept), which upstream's prompts carry (``protocol: upstream``).
"""

from __future__ import annotations

import csv
import json
import math
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

REPORT_FIELDS = ("findings", "impressions", "clinical_information", "technique")
# Every name a field goes by, in order of preference.
_FIELD_NAMES = {
    "case_id": ("case_id", "VolumeName", "volume_name", "file_name"),
    "findings": ("findings", "Findings_EN", "findings_en", "findings_text"),
    "impressions": ("impressions", "Impressions_EN", "impressions_en", "impressions_text",
                    "impression_text"),
    "clinical_information": ("clinical_information", "ClinicalInformation_EN"),
    "technique": ("technique", "Technique_EN"),
}
# CT-RATE's marker for a field the radiologist left empty.
EMPTY_MARKERS = frozenset({"not given.", "not given", "n/a", "nan", "none"})


class ReportError(ValueError):
    """A report row that cannot be used; the message names the file and row."""


def clean_field(value: Any) -> str:
    """The field's text, with CT-RATE's "Not given." and missing values (NaN, None) as ""."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    text = " ".join(str(value).split())
    return "" if text.lower() in EMPTY_MARKERS else text


def _raw(value: Any) -> str:
    """A field's text as the file has it; only a missing value (None, NaN) becomes ""."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value)


def _first(row: dict[str, Any], names: tuple[str, ...]) -> Any:
    for name in names:
        if name in row:
            return row[name]
    return None


def normalise_reports(data: Any, source: str | os.PathLike | None = None,
                      keep_raw: bool = False) -> list[dict[str, Any]]:
    """Report records from rows, a ``{case_id: fields}`` mapping, or a DataFrame.

    A row without a case id, or a duplicate case, raises naming ``source`` and the row; a report
    with neither findings nor impressions is kept (it yields no questions, and says so later).
    """
    if hasattr(data, "to_dict") and hasattr(data, "columns"):  # a pandas DataFrame
        data = data.to_dict(orient="records")
    if isinstance(data, dict):
        rows: Iterable[dict[str, Any]] = (
            {"case_id": case_id, **fields} for case_id, fields in data.items())
    else:
        rows = data
    reports: list[dict[str, str]] = []
    seen: dict[str, int] = {}
    for number, row in enumerate(rows, start=1):
        where = f"{source}: row {number}" if source else f"report row {number}"
        if not isinstance(row, dict):
            raise ReportError(f"{where}: expected an object, got {type(row).__name__}")
        case_id = clean_field(_first(row, _FIELD_NAMES["case_id"]))
        if not case_id:
            raise ReportError(f"{where}: no case id (VolumeName or case_id)")
        if case_id in seen:
            raise ReportError(f"{where}: duplicate case {case_id!r} (first at row {seen[case_id]})")
        seen[case_id] = number
        record = {"case_id": case_id}
        for field in REPORT_FIELDS:
            record[field] = clean_field(_first(row, _FIELD_NAMES[field]))
        if keep_raw:
            record["raw"] = {field: _raw(_first(row, _FIELD_NAMES[field]))
                             for field in ("findings", "impressions")}
        if row.get("image_path"):
            record["image_path"] = str(row["image_path"])
        reports.append(record)
    return reports


def load_reports(path: str | os.PathLike) -> list[dict[str, str]]:
    """Read reports from CT-RATE's CSV, CT-SpatialVQA's JSON mapping, or JSON Lines rows."""
    path = Path(path)
    if path.suffix == ".csv":
        with open(path, newline="", encoding="utf-8") as handle:
            return normalise_reports(list(csv.DictReader(handle)), source=path)
    if path.suffix == ".json":
        with open(path, encoding="utf-8") as handle:
            return normalise_reports(json.load(handle), source=path)
    from ct_spatial_bench.records import iter_jsonl

    return normalise_reports(list(iter_jsonl(path)), source=path)


def report_text(report: dict[str, str]) -> str:
    """The text a generator reads: Findings and Impressions, as upstream gave them to GPT-4o."""
    parts = []
    if report.get("findings"):
        parts.append(f"Findings: {report['findings']}")
    if report.get("impressions"):
        parts.append(f"Impressions: {report['impressions']}")
    return "\n".join(parts)
