"""Recompute upstream CT-SpatialVQA's published tables from its public files."""
