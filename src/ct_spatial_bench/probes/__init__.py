"""Probes of whether a model reads the CT: blind gap, left-right flip, perturbations, views."""
