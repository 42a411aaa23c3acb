"""The report's mask-track section."""

from __future__ import annotations

from ct_spatial_bench.mask_qa.summary import summarise
from ct_spatial_bench.reporting.mask_track import TITLE, mask_track_sections


def test_the_section_shows_families_paired_and_flip_per_model():
    rows = [{"model": model, "qa_id": f"{model}{i}", "case_id": f"c{i}", "family": "laterality",
             "categories": ["Laterality & Bilateral Symmetry"], "answer_type": "closed",
             "pair_id": f"p{i // 2}", "mirrored": False, "twin_of": None,
             "outcome": "correct", "score": 1.0, "read": "Yes"}
            for model in ("blind", "geometry") for i in range(4)]
    html = mask_track_sections(summarise(rows, n_boot=50))[TITLE]
    for text in ("blind", "geometry", "both right", "laterality", "1.000 [1.000, 1.000] (n=4)"):
        assert text in html
    assert mask_track_sections(None) == {} and mask_track_sections([]) == {}
