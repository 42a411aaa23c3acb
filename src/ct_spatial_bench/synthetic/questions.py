"""Templated questions with exact short answers, read off the findings' ground truth.

The templates are the one place that fixes each question's wording and its answer vocabulary; the
geometry baseline matches the same forms (``TEMPLATES[...].pattern``) and answers in the same words.
Spatial templates carry their ground-truth categories; a few non-spatial distractors carry none
(``meta.spatial`` False) so that the spatial filter downstream has something to drop.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable

from ..records import QAItem, make_qa_id
from ..spatial.categories import ADJACENCY, CENTRICITY, DEPTH, EXTENT, LATERALITY, LONGITUDINAL
from .anatomy import LOBE_NAMES

SOURCE = "synthetic_template"
LOBE_VOCABULARY = tuple(LOBE_NAMES.values())


@dataclass(frozen=True)
class Template:
    """One question form. ``{kind}`` in the form stands for the finding's noun ('nodule'/'mass')."""

    id: str
    form: str
    answers: tuple[str, ...]
    categories: tuple[str, ...]
    finding_kind: str                       # which finding row it asks about
    answer_of: Callable[[dict[str, Any]], str]
    spatial: bool = True

    def question(self, finding: dict[str, Any]) -> str:
        return self.form.format(kind=finding.get("kind", ""))

    @property
    def pattern(self) -> re.Pattern:
        """A regex matching any question made from this form (case- and space-insensitive)."""
        parts = [re.escape(p) for p in self.form.lower().split("{kind}")]
        body = r"(nodule|mass)".join(parts).replace(r"\ ", r"\s+").replace(",", ",?")
        if body.endswith(r"\?"):
            body += "?"  # the question mark is optional
        return re.compile(r"^\s*" + body + r"\s*$", re.IGNORECASE)


def _size_answer(f: dict[str, Any]) -> str:
    return f"{f['size_cm']} cm"


NODULE_KINDS = ("nodule", "mass")

_TEMPLATE_LIST = (
    Template("nodule_lung_side", "In which lung is the {kind} located?",
             ("Right lung", "Left lung"), (LATERALITY,), "nodule",
             lambda f: f"{f['side']} lung"),
    Template("nodule_lobe", "Which lobe contains the {kind}?", LOBE_VOCABULARY,
             (LONGITUDINAL, ADJACENCY), "nodule", lambda f: f["lobes"][0]),
    Template("nodule_depth", "Is the {kind} in the anterior or posterior part of the lung?",
             ("Anterior", "Posterior"), (DEPTH,), "nodule", lambda f: f["depth"]),
    Template("nodule_centricity", "Is the {kind} central, peripheral or subpleural?",
             ("Central", "Peripheral", "Subpleural"), (CENTRICITY,), "nodule",
             lambda f: f["centricity"]),
    Template("nodule_size",
             "What is the greatest diameter of the {kind}, to the nearest centimetre?",
             ("1 cm", "2 cm", "3 cm"), (EXTENT,), "nodule", _size_answer),
    Template("nodule_carina_level", "Is the {kind} above or below the level of the carina?",
             ("Above", "Below"), (LONGITUDINAL,), "nodule", lambda f: f["level_vs_carina"]),
    Template("effusion_side", "On which side is the pleural effusion?",
             ("Right", "Left", "Bilateral"), (LATERALITY,), "pleural_effusion",
             lambda f: f["side"]),
    Template("consolidation_lobes", "Which lobe or lobes does the consolidation involve?",
             LOBE_VOCABULARY + ("<lobe> and <lobe>",), (ADJACENCY, EXTENT), "consolidation",
             lambda f: f["lobes_text"]),
    Template("consolidation_crosses_fissure",
             "Does the consolidation cross a fissure into an adjacent lobe?", ("Yes", "No"),
             (EXTENT,), "consolidation", lambda f: "Yes" if f["crosses_fissure"] else "No"),
    Template("node_station", "Where is the enlarged lymph node located?",
             ("Right hilar", "Left hilar", "Right paratracheal", "Left paratracheal"),
             (LATERALITY, ADJACENCY), "lymph_node", lambda f: f["station"]),
    Template("node_carina_level",
             "Is the enlarged lymph node above or below the level of the carina?",
             ("Above", "Below"), (LONGITUDINAL,), "lymph_node", lambda f: f["level_vs_carina"]),
    # Non-spatial distractors.
    Template("nodule_attenuation", "What is the attenuation of the {kind}?",
             ("Solid", "Ground-glass", "Part-solid"), (), "nodule",
             lambda f: f["attenuation"], spatial=False),
    Template("emphysema_presence", "Is there evidence of emphysema?", ("Yes", "No"), (),
             "case", lambda f: "Yes" if f["has_emphysema"] else "No", spatial=False),
    Template("pericardial_effusion_presence", "Is there a pericardial effusion?", ("Yes", "No"),
             (), "case", lambda f: "No", spatial=False),
)
TEMPLATES: dict[str, Template] = {t.id: t for t in _TEMPLATE_LIST}

# The third nodule question rotates over these, by case index, to keep each case's count modest.
_ROTATING_NODULE_TEMPLATES = ("nodule_size", "nodule_carina_level", "nodule_lung_side")
_ALWAYS_NODULE_TEMPLATES = ("nodule_lobe", "nodule_depth", "nodule_centricity")


def _finding_of_kind(findings: list[dict[str, Any]], kind: str) -> dict[str, Any] | None:
    kinds = NODULE_KINDS if kind == "nodule" else (kind,)
    matches = [f for f in findings if f["kind"] in kinds]
    if len(matches) > 1:
        raise ValueError(f"ambiguous: {len(matches)} findings of kind {kind!r} in one case")
    return matches[0] if matches else None


def case_questions(case_id: str, case_index: int, findings: list[dict[str, Any]],
                   orientation: str) -> list[QAItem]:
    """The QA items of one case: spatial questions about each finding, then one distractor."""
    chosen: list[tuple[str, dict[str, Any] | None]] = []
    nodule = _finding_of_kind(findings, "nodule")
    if nodule:
        for tid in _ALWAYS_NODULE_TEMPLATES:
            chosen.append((tid, nodule))
        chosen.append((_ROTATING_NODULE_TEMPLATES[case_index % 3], nodule))
    effusion = _finding_of_kind(findings, "pleural_effusion")
    if effusion:
        chosen.append(("effusion_side", effusion))
    consolidation = _finding_of_kind(findings, "consolidation")
    if consolidation:
        chosen += [("consolidation_lobes", consolidation),
                   ("consolidation_crosses_fissure", consolidation)]
    node = _finding_of_kind(findings, "lymph_node")
    if node:
        chosen += [("node_station", node), ("node_carina_level", node)]

    case_facts = {"has_emphysema": any(f["kind"] == "emphysema" for f in findings)}
    if case_facts["has_emphysema"] or not nodule:
        chosen.append(("emphysema_presence", None))
    elif case_index % 2 == 0:
        chosen.append(("nodule_attenuation", nodule))
    else:
        chosen.append(("pericardial_effusion_presence", None))

    items = []
    for i, (tid, finding) in enumerate(chosen):
        template = TEMPLATES[tid]
        facts = finding if finding is not None else case_facts
        items.append(QAItem(
            qa_id=make_qa_id(case_id, i),
            case_id=case_id,
            image_path=case_id,
            question=template.question(facts),
            answer=template.answer_of(facts),
            categories=list(template.categories),
            source=SOURCE,
            meta={
                "template": tid,
                "finding_id": finding["finding_id"] if finding is not None else None,
                "orientation": orientation,
                "spatial": template.spatial,
            },
        ))
    return items


def normalise_answer(text: str) -> str:
    """Lowercase, punctuation dropped, spaces collapsed: the exact-match key for short answers."""
    text = re.sub(r"[^\w\s]", " ", str(text).lower())
    return " ".join(text.split())
