import json
from pathlib import Path

import pytest

from ct_spatial_bench.curation.agreement import (
    binary_agreement, measure_curation_agreement, render_markdown)
from support.project import UPSTREAM_REFERENCE as SHARED


def test_binary_agreement_figures():
    stats = binary_agreement([True, True, False, False], [True, False, True, False])
    assert (stats["tp"], stats["fp"], stats["fn"], stats["tn"]) == (1, 1, 1, 1)
    assert stats["precision"] == stats["recall"] == 0.5 and stats["kappa"] == 0.0
    assert binary_agreement([True, False], [True, False])["kappa"] == 1.0


def _tiny_reference(root: Path) -> Path:
    (root / "curation").mkdir(parents=True)
    (root / "dataset").mkdir()
    generated = {"c1": {"qa_pairs": [
        {"question": "Which lobe holds the nodule?", "answer": "Right upper lobe."},
        {"question": "Is the heart normal?", "answer": "Yes."},
        {"question": "Is there an effusion?", "answer": "Yes, on the left."}]}}
    (root / "curation" / "spatial_qa_output_full.json").write_text(json.dumps(generated))
    kept = [{"case_id": "c1", "image_path": "x", **generated["c1"]["qa_pairs"][0]}]
    (root / "dataset" / "spatial_qa_filtered_full_nifti.jsonl").write_text(
        "\n".join(json.dumps(k) for k in kept) + "\n")
    tagged = {"c1": {"qa_pairs": [{**generated["c1"]["qa_pairs"][0], "category": [
        "Laterality & Bilateral Symmetry", "Longitudinal (Vertical) Position"]}]}}
    (root / "dataset" / "spatial_qa_filtered_full_with_categories.json").write_text(
        json.dumps(tagged))
    disagreements = [{"type": "spatial", "case": "c1", "question": "Is there an effusion?",
                      "answer": "Yes, on the left.", "human": False, "gemini": True}]
    (root / "curation" / "gemini_human_disagreements.json").write_text(json.dumps(disagreements))
    return root


def test_measure_on_a_tiny_reference(tmp_path):
    result = measure_curation_agreement(_tiny_reference(tmp_path / "ref"))
    f = result["filter"]
    assert (f["tp"], f["fp"], f["fn"], f["tn"]) == (1, 1, 0, 1)  # "on the left" is spatial
    assert result["tagger"]["per_category"]["laterality"]["f1"] == 1.0
    d = result["human_gemini_disagreements"]
    assert d["ours_agrees_with_gemini"] == 1 and d["ours_agrees_with_human"] == 0
    assert "| 0.500 | 1.000 |" in render_markdown(result)


@pytest.mark.slow
@pytest.mark.skipif(not SHARED.is_dir(), reason=f"CT-SpatialVQA reference not found at {SHARED}")
def test_rules_agreement_with_upstream_is_what_we_report():
    result = measure_curation_agreement(SHARED)
    assert result["filter"]["n"] == 14744 and result["filter"]["upstream_positives"] == 9077
    assert result["filter"]["f1"] == pytest.approx(0.907, abs=0.002)
    assert result["filter"]["kappa"] == pytest.approx(0.749, abs=0.002)
    assert result["human_gemini_disagreements"]["n"] == 104
