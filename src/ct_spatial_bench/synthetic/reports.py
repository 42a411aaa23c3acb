"""Short templated radiology reports written from the findings' ground truth.

They give the report-driven QA generation stage realistic input whose every spatial statement is
true of the volume: what the report says is exactly where the phantom put it.
"""

from __future__ import annotations

from typing import Any


def _nodule_sentence(f: dict[str, Any]) -> str:
    lobe = f["lobes"][0].lower()
    where = {"Central": "centrally, near the hilum", "Peripheral": "in the lung periphery",
             "Subpleural": "in a subpleural position"}[f["centricity"]]
    return (f"A {f['size_mm']:.0f} mm solid {f['kind']} is seen in the {f['depth'].lower()} "
            f"{lobe}, {where}, {f['level_vs_carina'].lower()} the level of the carina.")


def _effusion_sentence(f: dict[str, Any]) -> str:
    side = "Bilateral pleural effusions" if f["side"] == "Bilateral" else \
        f"A {f['side'].lower()} pleural effusion"
    verb = "layer" if f["side"] == "Bilateral" else "layers"
    return f"{side} {verb} dependently in the posterior costophrenic recess."


def _consolidation_sentence(f: dict[str, Any]) -> str:
    lobes = f["lobes_text"][0].lower() + f["lobes_text"][1:]
    if f["crosses_fissure"]:
        return (f"Airspace consolidation involves the {lobes}, crossing the "
                f"{f['fissure']} fissure.")
    return f"Airspace consolidation is confined to the {lobes}, respecting the fissures."


def _node_sentence(f: dict[str, Any]) -> str:
    return (f"An enlarged {f['station'].lower()} lymph node measures {f['size_mm']:.0f} mm, "
            f"{f['level_vs_carina'].lower()} the carina.")


def write_report(case_id: str, findings: list[dict[str, Any]]) -> dict[str, str]:
    """Findings and impressions text for one case, in a fixed section order."""
    by_kind = {f["kind"]: f for f in findings}
    lungs, pleura, mediastinum, impressions = [], [], [], []
    for kind in ("nodule", "mass"):
        if kind in by_kind:
            f = by_kind[kind]
            lungs.append(_nodule_sentence(f))
            impressions.append(f"{f['lobes'][0]} {kind}, {f['size_mm']:.0f} mm.")
    if "consolidation" in by_kind:
        f = by_kind["consolidation"]
        lungs.append(_consolidation_sentence(f))
        impressions.append(f"Consolidation of the {f['lobes_text'][0].lower()}"
                           f"{f['lobes_text'][1:]}, suspicious for pneumonia.")
    if "emphysema" in by_kind:
        lungs.append("Centrilobular emphysema in both upper lobes.")
        impressions.append("Upper-lobe predominant emphysema.")
    if not lungs:
        lungs.append("The lungs are clear.")
    if "pleural_effusion" in by_kind:
        f = by_kind["pleural_effusion"]
        pleura.append(_effusion_sentence(f))
        side = "Bilateral" if f["side"] == "Bilateral" else f["side"]
        impressions.append(f"{side} pleural effusion.")
    else:
        pleura.append("No pleural effusion.")
    if "lymph_node" in by_kind:
        f = by_kind["lymph_node"]
        mediastinum.append(_node_sentence(f))
        impressions.append(f"{f['station']} lymphadenopathy.")
    mediastinum.append("Heart size is normal. No pericardial effusion.")
    findings_text = " ".join([
        "Lungs: " + " ".join(lungs),
        "Pleura: " + " ".join(pleura),
        "Mediastinum: " + " ".join(mediastinum),
        "Upper abdomen: The liver, spleen and kidneys are unremarkable.",
    ])
    impressions_text = " ".join(f"{i}. {text}" for i, text in enumerate(impressions, 1)) \
        or "No acute abnormality."
    return {"case_id": case_id, "findings_text": findings_text,
            "impressions_text": impressions_text}
