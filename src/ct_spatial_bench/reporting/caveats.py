"""Caveats a model's card declares for the report, placed beside the figures they qualify."""

from __future__ import annotations

from collections.abc import Mapping
from html import escape


def laterality_caveats(model_of: Mapping[str, str]) -> dict[str, str]:
    """{heading: HTML} stating, for each reported entry (``model_of``: its label, as the tables
    show it, -> its model; a blind control's is the model it is the twin of) whose model's card
    declares a laterality caveat, why its laterality figure measures less than it seems; {} if
    none."""
    from ct_spatial_bench.models.registry import MODEL_REGISTRY, adapter_class

    notes = []
    for label, model in model_of.items():
        card = getattr(adapter_class(model), "card", None) if model in MODEL_REGISTRY else None
        if card is not None and card.laterality_caveat:
            notes.append(f"<li><b>{escape(label)}</b>: {escape(card.laterality_caveat)}</li>")
    if not notes:
        return {}
    return {"Laterality caveats": "<ul>" + "".join(notes) + "</ul>"}
