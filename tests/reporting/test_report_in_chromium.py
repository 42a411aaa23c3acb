"""The HTML report opens in headless Chromium with every plot decoded and no console errors."""

from __future__ import annotations

import os
import shutil
import subprocess

import pandas as pd
import pytest

from ct_spatial_bench.reporting.summary import html_table
from ct_spatial_bench.reporting.browser import find_chromium, render_report
from ct_spatial_bench.reporting.report import FIGURES, full_html_report


def _install_chromium() -> str | None:
    """Debian's chromium via apt-get, when this runs as root on a machine that has apt-get."""
    if shutil.which("apt-get") is None or os.geteuid() != 0:
        return None
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update", "-qq"],
                    ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "chromium"]):
        if subprocess.run(command, env=env, capture_output=True, timeout=900).returncode != 0:
            return None
    return find_chromium()


@pytest.fixture(scope="module")
def chromium():
    browser = find_chromium() or _install_chromium()
    if browser is None:
        pytest.skip("no Chromium and no root apt-get to install it (apt-get install chromium)")
    return browser


def toy_report() -> str:
    categories = ["Laterality & Bilateral Symmetry", "Adjacency & Containment"]
    qa = [{"qa_id": f"q{i}", "case_id": "c", "question": f"Which side <b>{i}</b>?",
           "answer": "left", "categories": [categories[i % 2]]} for i in range(8)]
    preds, verdicts, decisions = [], [], {}
    for model in ("alpha", "beta"):
        for i, item in enumerate(qa):
            right = (i + (model == "beta")) % 3 == 0
            preds.append({"qa_id": item["qa_id"], "model": model, "status": "ok",
                          "prediction": "left" if right else "right <script>x</script>"})
            for judge in ("gpt", "qwen"):
                verdicts.append({"qa_id": item["qa_id"], "model": model, "judge": judge,
                                 "verdict": "correct" if right else "incorrect",
                                 "reason": "compared sides"})
            decisions[(model, item["qa_id"])] = "correct" if right else "incorrect"
    category_rows = [{"category": c, "model": m, "accuracy": 0.25 + 0.1 * j + 0.2 * k,
                      "n_items": 4} for j, c in enumerate(categories)
                     for k, m in enumerate(("alpha", "beta"))]
    return full_html_report(
        qa_items=qa, predictions=preds, verdicts=verdicts, decisions=decisions,
        accuracy_rows=[{"model": m, "accuracy": 0.4, "accuracy_ci_low": 0.1,
                        "accuracy_ci_high": 0.7, "n_judged": 8} for m in ("alpha", "beta")],
        text_summary_rows=[{"model": m, "count": 8, "bleu": 10.0} for m in ("alpha", "beta")],
        per_item_rows=[], category_rows=category_rows,
        agreement_rows=[{"judge_a": "gpt", "judge_b": "qwen", "n": 16, "kappa": 1.0,
                         "agreement": 1.0}],
        interval_rows=[{"model": "alpha", "metric": "token_f1", "n": 8, "mean": 0.5,
                        "ci_low": 0.3, "ci_high": 0.7}],
        paired_rows=[{"model_a": "alpha", "model_b": "beta", "n_shared": 8, "p_value": 1.0}],
        run_info={"split": "toy"},
    )


@pytest.mark.slow
def test_report_renders_with_every_plot_and_no_console_error(chromium, tmp_path):
    page = tmp_path / "report.html"
    page.write_text(toy_report(), encoding="utf-8")
    shot = tmp_path / "report.png"
    result = render_report(page, screenshot=shot, browser=chromium)
    assert result.console_errors == []
    assert result.title == "CT spatial VQA benchmark report"
    assert sorted(i["alt"] for i in result.images) == sorted(FIGURES)
    assert result.broken_images == []
    assert all(i["width"] > 100 for i in result.images)
    for heading in ("Leaderboard", "Figures", "Paired comparisons (McNemar, clustered by volume)",
                    "Worst failures per model and category"):
        assert heading in result.headings
    assert result.details >= 4  # two models, each with its categories
    assert shot.stat().st_size > 10_000


@pytest.mark.slow
def test_the_checker_sees_a_console_error_and_a_broken_image(chromium, tmp_path):
    page = tmp_path / "bad.html"
    page.write_text('<html><head><title>bad</title></head><body><img alt="gone" '
                    'src="data:image/png;base64,AAAA"><script>console.error("boom")</script>'
                    "</body></html>")
    result = render_report(page, browser=chromium)
    assert "boom" in " ".join(result.console_errors)
    assert result.broken_images == ["gone"]


PAIRED_COLUMNS = ("model_a", "model_b", "n_shared", "a_only", "b_only", "accuracy_a",
                  "accuracy_b", "difference", "difference_ci_low", "difference_ci_high",
                  "p_value", "p_clustered", "p_value_holm", "p_clustered_holm", "n_volumes")


def test_wide_tables_fit_1400_pixels_and_the_checker_sees_one_that_does_not(chromium, tmp_path):
    """The paired-comparisons table ran three columns off the page (issue 25)."""
    from PIL import Image

    models = ("geometry_with_a_long_name", "blind_control_of_geometry", "m3d_llama2_7b")
    paired = [{c: f"{a}" if c == "model_a" else f"{b}" if c == "model_b" else 0.123456
               for c in PAIRED_COLUMNS} for a in models for b in models if a < b]
    html_page = toy_report().replace(
        "</body>", html_table(pd.DataFrame(paired)) + "</body>")
    page = tmp_path / "wide.html"
    page.write_text(html_page, encoding="utf-8")
    shot = tmp_path / "wide.png"
    result = render_report(page, screenshot=shot, browser=chromium)
    assert 1350 <= result.page_width <= 1400  # the window, less a scrollbar if drawn
    assert result.overflow_px <= 0 and result.wide_tables == []
    assert result.broken_images == []
    with Image.open(shot) as image:  # not blank: more than one colour, text and plots drawn
        low, high = image.convert("L").getextrema()
        assert high - low > 100
    bad = tmp_path / "bad_wide.html"
    bad.write_text('<html><body><h2>too wide</h2><table><tr><td style="white-space:nowrap">'
                   + "x" * 400 + "</td></tr></table></body></html>")
    assert render_report(bad, browser=chromium).wide_tables == ["too wide"]
