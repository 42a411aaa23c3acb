"""Find CT-SpatialVQA's upstream files in a folder, read them, and attach upstream's categories.

The key join of rows without ids (predictions to QA items by (case, question, answer); verdicts to
predictions by (case, question, answer, prediction), identical rows in their order) is
``judges.upstream``; a row that matches nothing is an error naming the file and row.

File names (searched recursively under a folder; any subset per model):
``<model>_predictions_full.jsonl``, ``<model>_gpt_eval.json``, ``<model>_qwen_eval.json``,
``<model>_gemini2.5_eval_full.json``.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path
from typing import Any

from ct_spatial_bench.errors import ConfigurationError
from ct_spatial_bench.judges.upstream import occurrence_keys, upstream_case_id
from ct_spatial_bench.records import RecordError, iter_jsonl
from ct_spatial_bench.spatial.categories import canonical_category

PREDICTIONS = "predictions"
FILE_PATTERNS: dict[str, re.Pattern[str]] = {
    PREDICTIONS: re.compile(r"^(?P<model>.+)_predictions_full\.jsonl$"),
    "gpt": re.compile(r"^(?P<model>.+)_gpt_eval\.json$"),
    "qwen": re.compile(r"^(?P<model>.+)_qwen_eval\.json$"),
    "gemini": re.compile(r"^(?P<model>.+)_gemini2\.5_eval_full\.json$"),
}
JUDGES = ("gpt", "qwen", "gemini")
QA_FILE = "spatial_qa_filtered_full_nifti.jsonl"
CATEGORIES_FILE = "spatial_qa_filtered_full_with_categories.json"
HUMAN_REVIEW_FILE = "gemini_human_disagreements.json"
UPSTREAM_REPOSITORY = "https://github.com/Mashrafi27/CT-SpatialVQA"


class UpstreamFilesMissing(ConfigurationError, FileNotFoundError):
    """The folder of upstream's files is not there (fetch_upstream or a clone puts it there)."""


def discover_upstream_files(source_dir: str | os.PathLike) -> dict[str, dict[str, Path]]:
    """``{model: {kind: path}}`` for every upstream-format file under ``source_dir`` (recursive).

    ``kind`` is ``predictions`` or a judge name (gpt, qwen, gemini). Two files of one kind for one
    model (say in two subfolders) are an error, since either choice would be silent.
    """
    root = Path(source_dir)
    if not root.is_dir():
        raise UpstreamFilesMissing(
            f"the upstream source folder {root} (reproduce.source_dir) does not exist. Download "
            "CT-SpatialVQA's public files there with `kedro run --pipelines fetch_upstream`, or "
            f"`git clone {UPSTREAM_REPOSITORY}` and run `kedro run --pipelines reproduce --params "
            "reproduce.source_dir=<the clone>`.")
    found: dict[str, dict[str, Path]] = {}
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        for kind, pattern in FILE_PATTERNS.items():
            match = pattern.match(path.name)
            if not match:
                continue
            per_model = found.setdefault(match["model"], {})
            if kind in per_model:
                raise RecordError(f"two {kind} files for model {match['model']!r}: "
                                  f"{per_model[kind]} and {path}")
            per_model[kind] = path
    return dict(sorted(found.items()))


def find_one(source_dir: str | os.PathLike, name: str) -> Path | None:
    """The single file called ``name`` under ``source_dir``; None if absent, an error if several."""
    hits = sorted(Path(source_dir).rglob(name))
    if len(hits) > 1:
        raise RecordError(f"several files named {name} under {source_dir}: {hits}")
    return hits[0] if hits else None


def sha256_of(path: str | os.PathLike) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _qa_key(row: dict[str, Any]) -> tuple:
    return upstream_case_id(row), row["question"], row["answer"]


def read_json_rows(path: str | os.PathLike) -> list[dict[str, Any]]:
    """Rows of a JSON list (upstream's verdict files) or JSON Lines file, each checked to be an object."""
    path = Path(path)
    if path.suffix == ".jsonl":
        rows = list(iter_jsonl(path))
    else:
        with open(path, encoding="utf-8") as handle:
            try:
                rows = json.load(handle)
            except json.JSONDecodeError as exc:
                raise RecordError(f"{path}: not valid JSON ({exc.msg}, line {exc.lineno})") from exc
        if not isinstance(rows, list):
            raise RecordError(f"{path}: expected a JSON list of records")
    for i, row in enumerate(rows, start=1):
        if not isinstance(row, dict):
            raise RecordError(f"{path}: item {i}: expected an object")
        for field in ("question", "answer"):
            if not isinstance(row.get(field), str):
                raise RecordError(f"{path}: item {i}: missing or non-text field {field!r}")
    return rows


def attach_categories(
    qa_items: list[dict[str, Any]], categories_path: str | os.PathLike
) -> list[dict[str, Any]]:
    """QA items with ``categories`` from upstream's ``{case_id: {qa_pairs: [...]}}`` file.

    Matched by (case, question, answer, occurrence); names are made canonical (upstream twice
    dropped the centricity name's parenthesis). An item the file does not cover keeps its own.
    """
    with open(categories_path, encoding="utf-8") as handle:
        by_case = json.load(handle)
    rows = [{"case_id": case, "question": pair["question"], "answer": pair["answer"],
             "category": pair.get("category") or []}
            for case, entry in by_case.items() for pair in entry.get("qa_pairs", [])]
    categories_of = dict(zip(occurrence_keys(rows, _qa_key), (r["category"] for r in rows)))
    out = []
    for key, item in zip(occurrence_keys(qa_items, _qa_key), qa_items):
        names = categories_of.get(key)
        if names is None:
            out.append(item)
            continue
        canonical = list(dict.fromkeys(canonical_category(n) for n in names))
        out.append({**item, "categories": canonical})
    return out
