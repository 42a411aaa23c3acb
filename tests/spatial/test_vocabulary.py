"""The vocabulary is data: every fragment compiles, every category has terms."""

import re

import pytest

from ct_spatial_bench.spatial.categories import CATEGORIES
from ct_spatial_bench.spatial.classifier import compile_terms
from ct_spatial_bench.spatial.vocabulary import (LOCATOR_TERMS, QUESTION_CUES, STRONG_TERMS,
                                                 WEAK_TERMS)


def test_every_category_has_strong_terms():
    assert set(STRONG_TERMS) == set(CATEGORIES)
    assert all(STRONG_TERMS[cat] for cat in CATEGORIES)


@pytest.mark.parametrize("table", [STRONG_TERMS, WEAK_TERMS])
def test_every_fragment_compiles(table):
    for fragments in table.values():
        for fragment in fragments:
            re.compile(fragment)
        assert compile_terms(fragments) is not None or not fragments


def test_cues_and_locators_compile_and_name_known_categories():
    for table in (QUESTION_CUES, LOCATOR_TERMS):
        for pattern, cats in table.items():
            re.compile(pattern)
            assert set(cats) <= set(CATEGORIES)


@pytest.mark.parametrize("text, category", [
    ("bilateral pleural effusion", CATEGORIES[0]),
    ("in the right lung", CATEGORIES[0]),
    ("at the level of T4", CATEGORIES[1]),
    ("apical segment", CATEGORIES[1]),
    ("located posteriorly", CATEGORIES[2]),
    ("retrosternal goitre", CATEGORIES[2]),
    ("subpleural nodule", CATEGORIES[3]),
    ("perihilar opacity", CATEGORIES[3]),
    ("abutting the fissure", CATEGORIES[4]),
    ("extending into the mediastinum", CATEGORIES[4]),
    ("diffuse involvement", CATEGORIES[5]),
])
def test_terms_cover_ct_language(text, category):
    pattern = compile_terms(STRONG_TERMS[category] + WEAK_TERMS[category])
    assert pattern.search(text)


@pytest.mark.parametrize("text, category", [
    ("cleft", CATEGORIES[0]),          # "left" inside a word
    ("amid the scan", CATEGORIES[1]),  # "mid" inside a word
    ("bilateral", CATEGORIES[3]),      # "lateral" inside "bilateral" is not centricity
    ("cross-sectional area", CATEGORIES[4]),
])
def test_word_boundaries_hold(text, category):
    pattern = compile_terms(STRONG_TERMS[category])
    assert not pattern.search(text)
