"""Synthetic CT phantoms with exact spatial ground truth: the offline sanity split."""

from .split import SanitySplit, generate_prior_questions, generate_sanity_split

__all__ = ["SanitySplit", "generate_prior_questions", "generate_sanity_split"]
