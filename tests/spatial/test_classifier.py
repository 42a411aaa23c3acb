"""The rules classifier on templated questions and on the upstream's public data when present."""

import subprocess
import sys
from pathlib import Path

import pytest

from ct_spatial_bench.spatial.categories import (ADJACENCY, CATEGORIES, CENTRICITY, DEPTH, EXTENT,
                                                 LATERALITY, LONGITUDINAL)
from ct_spatial_bench.spatial.classifier import (SpatialClassification, classify, is_spatial,
                                                 tag_categories)
from support.project import UPSTREAM_REFERENCE as REFERENCE

PROJECT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("question, expected", [
    ("Which lung contains the nodule?", {LATERALITY}),
    ("In which lobe is the nodule located?", {LATERALITY, LONGITUDINAL}),
    ("Is the nodule in the anterior or posterior part of the lung?", {DEPTH}),
    ("Is the nodule central or peripheral?", {CENTRICITY}),
    ("Does the consolidation cross the fissure?", {ADJACENCY}),
    ("Is the nodule larger than 10 mm?", {EXTENT}),
    ("How many lobes does the consolidation involve?", {EXTENT}),
])
def test_templated_spatial_questions(question, expected):
    result = classify(question)
    assert result.is_spatial
    assert expected <= set(result.categories)


def test_how_many_lobes_is_extent_not_a_side():
    assert tag_categories("How many lobes does the consolidation involve?") == [EXTENT]


@pytest.mark.parametrize("question", [
    "Is there evidence of emphysema?",
    "What is the attenuation of the nodule?",
    "Is the cleft visible?",
    "Is there a nodule or a node?",
])
def test_non_spatial_questions(question):
    assert not is_spatial(question)
    assert tag_categories(question) == []


def test_answer_terms_count():
    assert is_spatial("Are there nodules?", "Yes, in the left lower lobe.")
    assert LATERALITY in tag_categories("Are there nodules?", "Yes, in the left lower lobe.")


def test_boilerplate_answer_alone_is_not_spatial():
    assert not is_spatial("Is there any mass detected in the lungs?", "No mass in both lungs.")


def test_categories_in_canonical_order_and_record_fields():
    result = classify("Where is the nodule?", "Posterior, subpleural, right lower lobe, 5 mm")
    assert isinstance(result, SpatialClassification)
    assert result.categories == [c for c in CATEGORIES if c in result.categories]
    assert set(result.matched_terms) == set(result.categories)
    assert (result.classifier, result.version) == ("rules", "rules-v1")


def test_agreement_script_runs_or_explains(tmp_path):
    script = PROJECT / "benchmarks" / "spatial_classifier_agreement.py"
    missing = subprocess.run([sys.executable, str(script), str(tmp_path)],
                             capture_output=True, text=True, timeout=60)
    assert missing.returncode == 0 and "not found" in missing.stdout


@pytest.mark.skipif(not REFERENCE.exists(), reason=f"upstream reference data absent at {REFERENCE}")
def test_agreement_with_upstream_filter_is_substantial():
    from ct_spatial_bench.curation.agreement import binary_agreement, load_reference

    items, _ = load_reference(REFERENCE)
    stats = binary_agreement([t for *_, t in items], [is_spatial(q, a) for _, q, a, _ in items])
    assert stats["f1"] > 0.85 and stats["kappa"] > 0.6
