"""The six spatial categories, named as the CT-SpatialVQA paper names them."""

from __future__ import annotations

LATERALITY = "Laterality & Bilateral Symmetry"
LONGITUDINAL = "Longitudinal (Vertical) Position"
DEPTH = "Anterior-Posterior (Depth) Relations"
CENTRICITY = "Medial-Lateral Orientation (Centricity)"
ADJACENCY = "Adjacency & Containment"
EXTENT = "Spatial Extent & Boundaries"

CATEGORIES: tuple[str, ...] = (LATERALITY, LONGITUDINAL, DEPTH, CENTRICITY, ADJACENCY, EXTENT)

# Short keys for columns, file names and parameters.
CATEGORY_KEYS: dict[str, str] = {
    LATERALITY: "laterality",
    LONGITUDINAL: "longitudinal",
    DEPTH: "depth",
    CENTRICITY: "centricity",
    ADJACENCY: "adjacency",
    EXTENT: "extent",
}

# Upstream's tagger twice wrote the centricity name without its parenthesis.
_ALIASES = {"Medial-Lateral Orientation": CENTRICITY}


def canonical_category(name: str) -> str:
    """Return the canonical category name for ``name`` (a full name, alias or short key)."""
    if name in CATEGORY_KEYS:
        return name
    if name in _ALIASES:
        return _ALIASES[name]
    by_key = {key: full for full, key in CATEGORY_KEYS.items()}
    if name in by_key:
        return by_key[name]
    raise ValueError(f"unknown spatial category {name!r}; expected one of {list(CATEGORIES)}")
