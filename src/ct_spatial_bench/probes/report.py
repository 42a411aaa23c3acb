"""The probes' tables: "does it look?" per model, and the HTML fragments of the report."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import pandas as pd

from ct_spatial_bench.probes.blind_gap import ALL

DOES_IT_LOOK_COLUMNS = ("model", "n_items", "flip_consistency", "same_side_rate", "blind_gap",
                        "wrong_flip_rate", "no_side_rate", "blind_model", "blind_gap_p",
                        "blind_gap_flagged")


def does_it_look(flip_rows: Iterable[dict[str, Any]],
                 gap_rows: Iterable[dict[str, Any]]) -> pd.DataFrame:
    """One row per model: flip consistency and same-side rate on the mirrored laterality items,
    and the overall blind gap (NaN where the model has no blind twin, e.g. a blind model)."""
    gaps = {r["model"]: r for r in gap_rows if r["category"] == ALL}
    flips = {r["model"]: r for r in flip_rows}
    rows = []
    for model in dict.fromkeys([*flips, *gaps]):
        flip, gap = flips.get(model, {}), gaps.get(model, {})
        rows.append({
            "model": model, "n_items": flip.get("n_items", 0),
            "flip_consistency": flip.get("flip_consistency", math.nan),
            "same_side_rate": flip.get("same_side_rate", math.nan),
            "blind_gap": gap.get("blind_gap", math.nan),
            "wrong_flip_rate": flip.get("wrong_flip_rate", math.nan),
            "no_side_rate": flip.get("no_side_rate", math.nan),
            "blind_model": gap.get("blind_model", ""),
            "blind_gap_p": gap.get("p_value", math.nan),
            "blind_gap_flagged": gap.get("flagged", None),
        })
    return pd.DataFrame(rows, columns=list(DOES_IT_LOOK_COLUMNS))


def _wide(frame: pd.DataFrame, index: list[str], column: str, value: str) -> pd.DataFrame:
    if frame is None or frame.empty:
        return pd.DataFrame()
    wide = frame.pivot_table(index=index, columns=column, values=value, aggfunc="first",
                             sort=False)
    return wide.reset_index()


def probe_sections(
    look: pd.DataFrame | None, gap: pd.DataFrame | None, flip_rule: str,
    robustness: pd.DataFrame | None, representations: pd.DataFrame | None,
) -> dict[str, str]:
    """HTML fragments by heading: the "does it look?" table (placed next to the leaderboard),
    the blind gap per category, robustness and input representations where they were run."""
    from ct_spatial_bench.reporting.summary import html_table

    look_html = "<p>Not run: <code>kedro run --pipelines probes</code>.</p>"
    if look is not None and not look.empty:
        flagged = [m for m, f in zip(look["model"], look["blind_gap_flagged"])
                   if str(f) == "True"]  # bool, or "True" read back from the CSV
        look_html = (
            "<p><b>flip_consistency</b>: share of mirrored laterality items where the answer "
            "switched to the other side; <b>same_side_rate</b>: same side on the original and "
            "the mirrored volume (the answer ignores the image); <b>wrong_flip_rate</b>: the "
            "side appeared, vanished or became both. <b>blind_gap</b>: accuracy with the image "
            "minus accuracy of the blind twin, exact McNemar p. Items probed: " + _escape(flip_rule)
            + ". The volume is mirrored left-right in patient space through its affine.</p>"
            + html_table(look)
            + ("<p><b>Flagged (blind gap not above zero):</b> " + _escape(", ".join(flagged))
               + "</p>" if flagged else ""))
    sections = {"Does it look? (blind gap and left-right flip)": look_html}
    if gap is not None and not gap.empty:
        sections["Blind gap by category"] = (
            "<p>Accuracy with the image minus the blind twin's, on the items both were decided "
            "on; image_only / blind_only: discordant items; p: exact McNemar.</p>"
            + html_table(gap))
    if robustness is not None and not robustness.empty:
        sections["Robustness to perturbations (accuracy drop)"] = (
            "<p>Accuracy of the benchmark run minus accuracy on perturbed volumes (noise: "
            "Gaussian SD in HU; blur: Gaussian sigma in mm; shift: HU added; slice_spacing: "
            "every k-th slice kept).</p>"
            + html_table(_wide(robustness, ["model", "perturbation", "strength"], "category",
                               "accuracy_drop")))
    if representations is not None and not representations.empty:
        sections["Input representations (accuracy by category)"] = html_table(
            _wide(representations, ["model", "variant"], "category", "accuracy"))
    return sections


def _escape(text: str) -> str:
    import html

    return html.escape(str(text))
