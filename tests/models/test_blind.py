from ct_spatial_bench.models.base import ModelAdapter, ModelInput
from ct_spatial_bench.models.blind import BlindBaseline


def _prior():
    rows = [("a", "Which lung contains the nodule?", "Right lung"),
            ("b", "Which lung contains the nodule?", "Right lung"),
            ("c", "Which lung contains the nodule?", "Left lung"),
            ("d", "Is the nodule subpleural?", "No")]
    return [{"qa_id": q, "question": t, "answer": a} for q, t, a in rows]


def test_is_an_adapter_without_image():
    assert isinstance(BlindBaseline(), ModelAdapter)
    assert BlindBaseline.input_spec is None


def test_leave_one_out_majority():
    model = BlindBaseline()
    model.load({"answer_prior": _prior()})
    answers = model.answer([ModelInput("a", "Which lung contains the nodule?"),
                            ModelInput("c", "Which lung contains the nodule?")])
    # without its own vote, "a" sees Right 1 / Left 1 (tie -> alphabetical), "c" sees Right 2
    assert answers == ["Left lung", "Right lung"]


def test_own_answer_is_never_the_only_evidence():
    model = BlindBaseline()
    model.load({"answer_prior": _prior()})
    # "d" is the only question of its form: the item's own answer must not leak
    assert model.answer([ModelInput("d", "Is the nodule subpleural?")]) == ["Yes"]
