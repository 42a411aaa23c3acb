"""The geometry baseline answers the sanity split from the pixels, in any storage orientation."""

from __future__ import annotations

import nibabel as nib
import pytest

from ct_spatial_bench.models.base import ModelAdapter, Question
from ct_spatial_bench.baselines.geometry import UNKNOWN, GeometryBaseline
from ct_spatial_bench.synthetic import generate_sanity_split
from ct_spatial_bench.synthetic.phantom import generate_case
from ct_spatial_bench.synthetic.questions import case_questions, normalise_answer


@pytest.fixture(scope="module")
def baseline() -> GeometryBaseline:
    model = GeometryBaseline()
    model.load({})
    return model


def _answers(baseline, items, volumes):
    """The answers to ``items`` on what preprocessing (spec ras_hu) hands the model: canonical
    RAS+, HU, native spacing."""
    canonical = {key: nib.as_closest_canonical(img) for key, img in volumes.items()}
    return [baseline.answer_one(canonical[q["case_id"][: -len(".nii.gz")]],
                                Question(q["qa_id"], q["question"])).text for q in items]


def _ask(baseline, image, *questions):
    return [a.text for a in baseline.answer_volume(image, [Question(str(i), q)
                                                          for i, q in enumerate(questions)])]


def _accuracy(items, answers) -> float:
    hits = [normalise_answer(a) == normalise_answer(q["answer"]) for q, a in zip(items, answers)]
    return sum(hits) / len(hits)


def test_protocol_and_description(baseline):
    assert isinstance(baseline, ModelAdapter)
    assert baseline.name == "geometry" and baseline.input_spec == "ras_hu"
    described = baseline.describe()
    assert described["model_revision"] == "geometry-v1"
    assert "fissure_hu" in described["generation"]


def test_accuracy_on_spatial_questions_including_non_ras_cases(baseline):
    # 5 cases: phantom_002 is stored LPS and phantom_003 PSR; all are canonicalised first.
    split = generate_sanity_split(n_cases=5, seed=3)
    assert {c["orientation"] for c in split.cases} == {"RAS", "LPS", "PSR"}
    spatial = [q for q in split.qa_candidates if q["meta"]["spatial"]]
    answers = _answers(baseline, spatial, split.volumes)
    assert _accuracy(spatial, answers) >= 0.95
    non_ras = [(q, a) for q, a in zip(spatial, answers) if q["meta"]["orientation"] != "RAS"]
    assert non_ras and _accuracy(*zip(*non_ras)) >= 0.95


def test_non_ras_twin_gets_identical_answers(baseline):
    index = 3  # consolidation + bilateral effusion + node
    answers = {}
    for orientation in ("RAS", "LPS", "PSR"):
        case = generate_case(index, seed=4, orientation=orientation)
        items = case_questions(case.case_id, index, case.findings, orientation)
        answers[orientation] = _answers(baseline, items, {case.key: case.image})
    assert answers["RAS"] == answers["LPS"] == answers["PSR"]


def test_reading_without_the_header_flips_laterality(baseline):
    """Control: the LPS array read as if it were RAS puts the right-sided node on the left."""
    case = generate_case(8, seed=0, orientation="LPS")  # node at a lateralised station
    node = next(f for f in case.findings if f["kind"] == "lymph_node")
    header_ignored = nib.Nifti1Image(case.image.get_fdata().astype("int16"), case.affine_ras)
    question = "Where is the enlarged lymph node located?"
    right_way = _ask(baseline, nib.as_closest_canonical(case.image), question)
    wrong_way = _ask(baseline, header_ignored, question)
    assert right_way == [node["station"]]
    assert wrong_way[0].split()[0] != node["station"].split()[0]


def test_unrecognised_question_or_missing_image(baseline):
    case = generate_case(0, seed=0)
    out = (_ask(baseline, case.image, "What colour is the scanner?")
           + _ask(baseline, None, "Which lobe contains the nodule?"))
    assert out == [UNKNOWN, UNKNOWN]
