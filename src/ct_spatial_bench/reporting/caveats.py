"""Caveats a model's card declares for the report, placed beside the figures they qualify."""

from __future__ import annotations

from collections.abc import Iterable
from html import escape


def laterality_caveats(models: Iterable[str]) -> dict[str, str]:
    """{heading: HTML} stating, for each reported model (or its blind twin) whose card declares
    a laterality caveat, why its laterality figure measures less than it seems; {} if none."""
    from ct_spatial_bench.models.registry import MODEL_REGISTRY, adapter_class

    notes = []
    for model in dict.fromkeys(models):
        base = model.removesuffix("_blind")
        card = getattr(adapter_class(base), "card", None) if base in MODEL_REGISTRY else None
        if card is not None and card.laterality_caveat:
            notes.append(f"<li><b>{escape(model)}</b>: {escape(card.laterality_caveat)}</li>")
    if not notes:
        return {}
    return {"Laterality caveats": "<ul>" + "".join(notes) + "</ul>"}
