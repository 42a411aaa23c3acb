"""End to end: the sanity split through every stage, as a new user's ``kedro run`` does it."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest


@pytest.fixture(scope="module")
def sanity_run(quick_start_run):
    """The project folder of the README quick start's ``kedro run`` (``__default__``), run once
    per test session in a scratch copy (tests/support/fixtures.py)."""
    return quick_start_run[0]


def _rows(path: Path) -> list[dict]:
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def _accuracy(root: Path) -> dict[str, float]:
    rows = [json.loads(line) for line in
            (root / "data/07_model_output/metrics/model_accuracy.jsonl").read_text().splitlines()]
    return {r["model"]: r["accuracy"] for r in rows}


@pytest.mark.slow
def test_reports_appear(sanity_run):
    reporting = sanity_run / "data/08_reporting"
    for name in ("correctness_matrix.csv", "category_performance.csv", "text_metrics.csv",
                 "leaderboard.csv", "category_accuracy.png", "summary.md", "report.html"):
        assert (reporting / name).stat().st_size > 0, name


@pytest.mark.slow
def test_geometry_reads_the_volume_and_blind_does_not(sanity_run):
    accuracy = _accuracy(sanity_run)
    assert accuracy["geometry"] >= 0.95
    assert accuracy["blind"] < accuracy["geometry"] - 0.2


@pytest.mark.slow
def test_predictions_carry_their_settings_and_join_by_key(sanity_run):
    qa = [json.loads(line) for line in
          (sanity_run / "data/03_primary/benchmark_qa.jsonl").read_text().splitlines()]
    for model in ("blind", "geometry"):
        preds = [json.loads(line) for line in (
            sanity_run / f"data/07_model_output/predictions/{model}.jsonl").read_text().splitlines()]
        assert sorted(p["qa_id"] for p in preds) == sorted(i["qa_id"] for i in qa)
        assert all(p["model_revision"] and "generation" in p for p in preds)


@pytest.mark.slow
def test_every_category_is_scored(sanity_run):
    rows = _rows(sanity_run / "data/08_reporting/category_performance.csv")
    assert len(rows) == 6


def _file_digests(folder: Path, skip: Path) -> dict[str, str]:
    import hashlib

    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and skip not in p.parents}


@pytest.mark.slow
def test_the_full_split_leaves_every_sanity_file_byte_identical(sanity_run):
    """The issue's acceptance: a full qa_filtering run after `kedro run` writes under data/full
    only; every file of the sanity split, manifests included, stays byte for byte."""
    import subprocess
    import sys

    from support.project import UPSTREAM_REFERENCE

    qa_file = UPSTREAM_REFERENCE / "dataset" / "spatial_qa_filtered_full_nifti.jsonl"
    if not qa_file.exists():
        pytest.skip(f"upstream CT-SpatialVQA files not found at {UPSTREAM_REFERENCE}")
    data = sanity_run / "data"
    before = _file_digests(data, skip=data / "full")
    done = subprocess.run(
        [sys.executable, "-m", "kedro", "run", "--env", "full", "--pipelines", "qa_filtering",
         "--params", f"ct_spatialvqa_qa={qa_file}"],
        cwd=sanity_run, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert _file_digests(data, skip=data / "full") == before
    full_qa = data / "full" / "03_primary" / "benchmark_qa.jsonl"
    assert sum(1 for _ in full_qa.open()) == 9077  # the upstream README's count
    assert json.loads((data / "full" / "03_primary" / ".benchmark_qa.jsonl.stamp.json")
                      .read_text())["split"] == "full"
    assert (data / "full" / "08_reporting" / "manifest.json").exists()


ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
QUOTING_PAGES = [README, *sorted((ROOT / "docs").glob("*.md"))]  # where figures are quoted


@pytest.mark.slow
def test_the_readmes_sanity_figures_are_the_runs(sanity_run):
    """Every figure the README and the docs quote about the sanity split, against this run's
    outputs."""
    import re
    from collections import Counter

    text = " ".join(" ".join(page.read_text() for page in QUOTING_PAGES).split())
    rows = {r["model"]: r for r in (json.loads(line) for line in (
        sanity_run / "data/07_model_output/metrics/model_accuracy.jsonl").read_text().splitlines())}
    quoted = re.search(r"On the sanity split they score ([\d.]+) \[([\d.]+), ([\d.]+)\]"
                       r"(?: \([^)]*\))? and ([\d.]+) of (\d+) items", text)
    assert quoted, "the README's sanity-split sentence is gone"
    blind, geometry = rows["blind"], rows["geometry"]
    for name, row in rows.items():  # the README's printed leaderboard
        if name in ("blind", "geometry"):
            line = re.search(rf"{name} ([\d.]+) \[([\d.]+), ([\d.]+)\] (\d+) ", text)
            assert line, f"the README's leaderboard line of {name} is gone"
            assert line.groups() == (f"{row['accuracy']:.3f}", f"{row['accuracy_ci_low']:.3f}",
                                     f"{row['accuracy_ci_high']:.3f}", str(row["n_judged"]))
    assert quoted.groups() == (f"{blind['accuracy']:.3f}", f"{blind['accuracy_ci_low']:.3f}",
                               f"{blind['accuracy_ci_high']:.3f}", f"{geometry['accuracy']:.3f}",
                               str(geometry["n_judged"]))
    mask = [json.loads(line) for line in
            (sanity_run / "data/03_primary/mask_qa.jsonl").read_text().splitlines()]
    asked = [r for r in mask if not r["meta"]["mirrored"]]
    closed = [r for r in asked if r["answer_type"] == "closed"]
    summary = {(r["model"], r["kind"], r["group"]): r for r in (json.loads(line) for line in (
        sanity_run / "data/08_reporting/mask_qa_summary.jsonl").read_text().splitlines())}
    quoted = re.search(r"On the sanity split: (\d+) questions on the 10 phantoms \(\+(\d+) "
                       r"mirrored twins; (\d+) closed in (\d+) pairs, (\d+) numbers\); `blind` "
                       r"([\d.]+) per item on the paired questions \(chance 0.5\), `geometry` "
                       r"([\d.]+) overall", text)
    assert quoted, "the README's mask-track sentence is gone"
    assert quoted.groups() == (
        str(len(asked)), str(len(mask) - len(asked)), str(len(closed)), str(len(closed) // 2),
        str(len(asked) - len(closed)),
        f"{summary[('blind', 'paired', 'per item')]['accuracy']:.3f}",
        f"{summary[('geometry', 'overall', 'all')]['accuracy']:.3f}")
    # the rules' table: candidates each rule removed, per family
    skips = [json.loads(line) for line in
             (sanity_run / "data/03_primary/mask_qa_skips.jsonl").read_text().splitlines()]
    counts = Counter((s["family"], s["reason"]) for s in skips)
    table = re.findall(r"\| `(\w+)` \| ([^|]+?) \| (\d+) \|", (ROOT / "docs" / "mask-track.md").read_text())
    assert table, "docs/mask-track.md's table of rule removals is gone"
    assert {(family, reason): int(n) for family, reason, n in table} == dict(counts)


@pytest.mark.slow
def test_the_sanity_report_is_small_fits_1400_pixels_and_every_image_decodes(sanity_run, tmp_path):
    """Issue 25: what a reader sees in a browser, checked in headless Chromium."""
    from ct_spatial_bench.reporting.browser import find_chromium, render_report

    report = sanity_run / "data/08_reporting/report.html"
    assert report.stat().st_size < 10 * 1024 * 1024
    text = report.read_text(encoding="utf-8")
    assert "Model errors count as incorrect" not in text
    assert "outside the denominator" in text
    if find_chromium() is None:
        pytest.skip("no Chromium (apt-get install chromium)")
    result = render_report(report, screenshot=tmp_path / "shot.png")
    assert result.console_errors == [] and result.broken_images == []
    assert result.overflow_px <= 0 and result.wide_tables == []
    alts = {image["alt"] for image in result.images}
    assert "Judge agreement" not in alts  # one judge (offline) ran: nothing to agree
    assert "Answer lengths" in alts
