from ct_spatial_bench.models.base import ModelAdapter, Question
from ct_spatial_bench.baselines.blind import BlindBaseline

LUNG = "Which lung contains the nodule?"


def _prior(rows):
    return [{"qa_id": q, "case_id": c, "question": t, "answer": a} for q, c, t, a in rows]


def _loaded(rows) -> BlindBaseline:
    model = BlindBaseline()
    model.load({"answer_prior": _prior(rows)})
    return model


def _ask(model, *questions):
    return [a.text for a in model.answer_volume(None, list(questions))]


def test_is_an_adapter_without_image():
    assert isinstance(BlindBaseline(), ModelAdapter)
    assert BlindBaseline.input_spec is None


def test_a_disjoint_prior_is_used_whole():
    model = _loaded([("p1", "x1", LUNG, "Right lung"), ("p2", "x2", LUNG, "Right lung"),
                     ("p3", "x3", LUNG, "Left lung")])
    assert _ask(model, Question("asked", LUNG)) == ["Right lung"]


def test_the_asked_case_is_left_out_of_the_prior():
    model = _loaded([("a", "case1", LUNG, "Left lung"), ("b", "case1", LUNG, "Left lung"),
                     ("c", "case2", LUNG, "Right lung")])
    # case1's own two answers would outvote case2's; without them only "Right lung" remains
    assert _ask(model, Question("a", LUNG)) == ["Right lung"]
    assert _ask(model, Question("c", LUNG)) == ["Left lung"]


def test_a_balanced_form_is_not_systematically_wrong_with_a_disjoint_prior():
    # Leaving out the item alone would answer every one of these wrongly (its own vote lost).
    asked = [("q1", "c1", "Yes"), ("q2", "c2", "No"), ("q3", "c3", "Yes"), ("q4", "c4", "No")]
    prior = [(f"p{i}", f"x{i}", "Is the nodule subpleural?", a)
             for i, a in enumerate(["Yes", "Yes", "No"])]
    model = _loaded(prior)
    answers = _ask(model, *[Question(q, "Is the nodule subpleural?") for q, _, _ in asked])
    assert sum(a == truth for a, (_, _, truth) in zip(answers, asked)) == 2


def test_nothing_of_the_asked_case_leaks_when_it_is_the_only_evidence():
    model = _loaded([("d", "case1", "Is the nodule subpleural?", "No")])
    assert _ask(model, Question("d", "Is the nodule subpleural?")) == ["Yes"]  # fallback
