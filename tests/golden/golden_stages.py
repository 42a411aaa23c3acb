"""The golden before/after run: the downstream stages on fixed committed inputs, through the
project's own catalog, and the comparison of what they write with the golden files.

Shared by ``test_golden_outputs.py`` and ``regenerate.py`` (run as a script: this module sits
beside it, so both import it by its bare name).

Inputs (``inputs/``, fixed, never regenerated):

- ``inputs/sanity/``: the sanity split's ``benchmark_qa.jsonl`` and the ``blind`` and
  ``geometry`` predictions, as ``kedro run`` wrote them at c6b92f3 (before issue 22's typed
  records), laid out as under ``data/``, and small stand-in volumes for the case viewer (not
  the phantoms: a blob in a box per case);
- ``inputs/upstream/``: the same questions and answers in upstream CT-SpatialVQA's file
  layout, with judgement files (see ``inputs/README.md``).

Fixed inputs keep the golden files apart from changes upstream of these stages (the phantoms,
the QA templates, inference): only the stages run here (judging, metrics with the slot scorer,
reporting, reproduce) and the project's conf can change what is compared, and a deliberate
change there is a regeneration (regenerate.py).
"""

from __future__ import annotations

import csv
import json
import math
import re
import shutil
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
PROJECT_ROOT = HERE.parents[1]
INPUTS = HERE / "inputs"
EXPECTED = HERE / "expected"

# ``kedro run --pipelines judging,metrics,reporting`` on the sanity inputs.
SANITY_PIPELINES = ("judging", "metrics", "reporting")
# reproduce with few bootstrap resamples: the intervals are still compared, exactly (seeded).
REPRODUCE_PARAMS = {"n_boot": 200}

# Fields whose value is the clock or the machine, not the method: compared for presence only.
# listing_sha256: the manifest's digest of an input folder's names, sizes and mtimes; a clone's
# mtimes are its checkout time (the sizes and file counts beside it stay compared).
VOLATILE_KEYS = {"latency_s", "timestamp", "created_at", "started_at", "finished_at",
                 "run_id", "elapsed_s", "seconds", "duration_s", "listing_sha256"}


def scratch_project(root: Path) -> Path:
    """A copy of the project's pyproject and conf in ``root`` (its data/ is written there)."""
    shutil.copy(PROJECT_ROOT / "pyproject.toml", root)
    shutil.copytree(PROJECT_ROOT / "conf", root / "conf", ignore=shutil.ignore_patterns("local"))
    (root / "conf" / "local").mkdir()
    (root / "src").mkdir()  # Kedro checks the source folder exists
    return root


def run_stages(root: Path, pipeline_names: list[str], params: dict | None = None) -> None:
    """``kedro run --pipelines <pipeline_names>`` in the scratch project ``root`` (hooks
    included: stamps and the provenance manifest are outputs too), working in ``root``."""
    import os

    from kedro.framework.session import KedroSession
    from kedro.framework.startup import bootstrap_project

    cwd = Path.cwd()
    os.chdir(root)
    try:
        bootstrap_project(root)
        with KedroSession.create(project_path=root, runtime_params=params) as session:
            session.run(pipeline_names=pipeline_names)
    finally:
        os.chdir(cwd)


def run_sanity(root: Path) -> Path:
    """judging, metrics and reporting on the committed sanity inputs; returns the data folder."""
    scratch_project(root)
    shutil.copytree(INPUTS / "sanity", root / "data")
    run_stages(root, list(SANITY_PIPELINES))
    return root / "data"


def run_reproduce(root: Path) -> Path:
    """reproduce on the committed upstream-format fixture; returns the data folder."""
    scratch_project(root)
    run_stages(root, ["reproduce"],
               params={"reproduce": {"source_dir": str(INPUTS / "upstream"), **REPRODUCE_PARAMS}})
    return root / "data"


# ----------------------------------------------------------------------------- comparison
# What is compared: every file the stages write, read as records (JSON Lines, JSON, CSV) or
# as text (Markdown, HTML); PNG files by their pixels.
SUFFIXES = (".jsonl", ".json", ".csv", ".md", ".html", ".png")


# The provenance manifest: what the run was (its outputs, the models and judges in its records,
# the parameters of the stages run, its inputs' checksums), not when, where or with which
# packages. manifests/ holds the same manifest under the run's time.
MANIFEST = "08_reporting/manifest.json"
MANIFEST_KEYS = ("split", "run_root", "qa_fingerprint", "status", "error", "inputs", "outputs",
                 "models", "judges", "parameters")
STAGE_PARAMETERS = ("judging", "metrics", "reporting", "preprocessing", "reproduce")


def output_files(folder: Path) -> dict[str, Path]:
    """Every output under ``folder`` by its relative path (stamps included, inputs excluded)."""
    inputs = {p.relative_to(INPUTS / "sanity").as_posix()
              for p in (INPUTS / "sanity").rglob("*") if p.is_file()}
    return {p.relative_to(folder).as_posix(): p for p in sorted(folder.rglob("*"))
            if p.is_file() and p.name.endswith(SUFFIXES)
            and p.relative_to(folder).as_posix() not in inputs
            and not p.relative_to(folder).as_posix().startswith("08_reporting/manifests/")}


def _png_digest(data: bytes) -> str:
    """The pixels' digest: PNG metadata (the matplotlib version) is not the figure."""
    import hashlib
    import io

    import numpy as np
    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        pixels = np.asarray(image.convert("RGBA"))
    return f"png {pixels.shape[1]}x{pixels.shape[0]} " + hashlib.sha256(
        pixels.tobytes()).hexdigest()[:16]


# An embedded PNG, in a data: URL (the HTML) or bare (the sections' figures).
_BASE64_PNG = re.compile(r"(?:data:image/png;base64,)?(iVBORw0KGgo[A-Za-z0-9+/=]+)")


def _text(text: str, scratch: str) -> str:
    """Text with embedded PNGs as their pixel digest and the scratch folder's path as <root>."""
    import base64

    text = _BASE64_PNG.sub(lambda m: f"<{_png_digest(base64.b64decode(m[1]))}>", text)
    return text.replace(scratch, "<root>").replace(str(INPUTS), "<inputs>")


# Tables in HTML (the report, the sections) and in Markdown (summary.md) are compared as
# records, so a column added to a table is an added field, not a changed line.
_HTML_TABLE = re.compile(r"<table\b.*?</table>", re.S)
_HTML_ROW = re.compile(r"<tr\b[^>]*>(.*?)</tr>", re.S)
_HTML_CELL = re.compile(r"<t([hd])\b[^>]*>(.*?)</t[hd]>", re.S)


def _records(header: list[str], rows: list[list[str]]) -> list[dict[str, str]]:
    names = [name if header.index(name) == i else f"{name}#{i}" for i, name in enumerate(header)]
    return [dict(zip(names, row)) for row in rows]


def _html_table(table: str) -> list:
    rows = [_HTML_CELL.findall(row) for row in _HTML_ROW.findall(table)]
    if rows and rows[0] and all(kind == "h" for kind, _ in rows[0]):
        return _records([cell for _, cell in rows[0]], [[c for _, c in r] for r in rows[1:]])
    return [[cell for _, cell in row] for row in rows]


def _with_tables(text: str) -> Any:
    """``text``, or {text with each table as <table>, tables as records} if it has tables."""
    tables = _HTML_TABLE.findall(text)
    if not tables:
        return text
    return {"text": _HTML_TABLE.sub("<table>", text),
            "tables": [_html_table(table) for table in tables]}


def _markdown_tables(lines: list[str]) -> list:
    """Lines, each run of ``| ... |`` lines (header, rule, rows) as one {"table": records}."""
    out: list = []
    for line in lines:
        if not line.startswith("|"):
            out.append(line)
            continue
        if not out or not isinstance(out[-1], dict):
            out.append({"rows": []})
        out[-1]["rows"].append([cell.strip() for cell in line.strip().strip("|").split("|")])
    return [{"table": _records(item["rows"][0], item["rows"][2:])} if isinstance(item, dict)
            else item for item in out]


def _normalise(value: Any, scratch: str) -> Any:
    if isinstance(value, dict):
        return {k: ("<volatile>" if k in VOLATILE_KEYS and v is not None else
                    _normalise(v, scratch)) for k, v in value.items()}
    if isinstance(value, list):
        return [_normalise(v, scratch) for v in value]
    if isinstance(value, str):
        return _with_tables(_text(value, scratch))
    return value


def read_output(path: Path, scratch: str) -> Any:
    """A file as comparable data: records for JSON Lines / JSON / CSV, lines for text."""
    if path.suffix == ".png":
        return _png_digest(path.read_bytes())
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".jsonl":
        return [_normalise(json.loads(line), scratch) for line in text.splitlines() if line]
    if path.suffix == ".json":
        data = json.loads(text)
        if path.as_posix().endswith(MANIFEST):
            data = {k: data.get(k) for k in MANIFEST_KEYS}
            data["parameters"] = {k: v for k, v in (data["parameters"] or {}).items()
                                  if k in STAGE_PARAMETERS}
        return _normalise(data, scratch)
    if path.suffix == ".csv":
        return [_normalise(row, scratch) for row in csv.DictReader(text.splitlines())]
    lines = _text(text, scratch).splitlines()
    if path.suffix == ".md":
        return _markdown_tables(lines)
    return [_with_tables(line) for line in lines]


def write_golden(folder: Path, golden: Path, scratch: Path) -> list[str]:
    """``folder``'s outputs, normalised, as golden files under ``golden`` (one JSON per output);
    ``scratch``: the scratch project they were written in."""
    if golden.exists():
        shutil.rmtree(golden)
    written = []
    for name, path in output_files(folder).items():
        target = golden / f"{name}.json"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(_dumps(read_output(path, str(scratch))))
        written.append(name)
    return written


def _dumps(data: Any) -> str:
    """One record (or line) per line, so a golden file's diff shows the rows that changed."""
    if isinstance(data, list):
        return "[\n" + ",\n".join(json.dumps(row, sort_keys=True, ensure_ascii=False)
                                  for row in data) + "\n]\n"
    return json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def load_golden(golden: Path) -> dict[str, Any]:
    return {p.relative_to(golden).as_posix().removesuffix(".json"): json.loads(p.read_text())
            for p in sorted(golden.rglob("*.json"))}


def compare(expected: Any, actual: Any, where: str, added: list[str]) -> list[str]:
    """Where ``actual`` differs from ``expected``; a key or column only ``actual`` has is no
    difference and is listed in ``added``."""
    if isinstance(expected, dict) and isinstance(actual, dict):
        added.extend(f"{where}.{k}" for k in actual if k not in expected)
        return [d for k in expected for d in (
            compare(expected[k], actual[k], f"{where}.{k}", added) if k in actual
            else [f"{where}: field {k!r} is gone"])]
    if isinstance(expected, list) and isinstance(actual, list):
        if len(expected) != len(actual):
            return [f"{where}: {len(actual)} rows/lines, expected {len(expected)}"]
        return [d for i, (e, a) in enumerate(zip(expected, actual))
                for d in compare(e, a, f"{where}[{i}]", added)]
    # type too: 1, 1.0 and true are equal in Python but different text in the file
    if type(expected) is not type(actual) or (expected != actual and not _both_nan(expected,
                                                                                   actual)
                                              and not _same_float(expected, actual)):
        return [f"{where}: {actual!r:.200} != expected {expected!r:.200}"]
    return []


def _same_float(expected: Any, actual: Any) -> bool:
    """Equal to a millionth, as floats or as a CSV's float text: another CPU's BLAS (float32
    embeddings, a refit) moves the last digits (seen: 0.12857845 -> 0.12857839), a behaviour
    change moves far more."""
    if isinstance(expected, str):
        if "." not in expected or "." not in actual:  # counts and ids stay exact
            return False
        try:
            expected, actual = float(expected), float(actual)
        except ValueError:
            return False
    return isinstance(expected, float) and math.isclose(expected, actual, rel_tol=1e-6,
                                                        abs_tol=1e-9)


def _both_nan(expected: Any, actual: Any) -> bool:
    return isinstance(expected, float) and expected != expected and actual != actual


def differences(folder: Path, golden: Path, scratch: Path) -> tuple[list[str], list[str]]:
    """(differences, added fields) of ``folder``'s outputs against the golden files."""
    expected = load_golden(golden)
    actual = {name: read_output(path, str(scratch))
              for name, path in output_files(folder).items()}
    diffs = [f"{name}: not written" for name in expected if name not in actual]
    diffs += [f"{name}: new output (regenerate if deliberate)" for name in actual
              if name not in expected]
    added: list[str] = []
    for name in expected.keys() & actual.keys():
        diffs += compare(expected[name], actual[name], name, added)
    return sorted(diffs), sorted({re.sub(r"\[\d+\]", "[]", a) for a in added})
