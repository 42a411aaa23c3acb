"""The offline rule judge on known inputs."""

import pytest

from ct_spatial_bench.judges.base import Judge
from ct_spatial_bench.judges.rule import RuleJudge
from ct_spatial_bench.judges.text import (answer_polarity, measurements_mm, normalise_answer,
                                          token_f1)
from ct_spatial_bench.records import CORRECT, FAILED, INCORRECT

JUDGE = RuleJudge()


def test_protocol_and_names():
    assert isinstance(JUDGE, Judge)
    assert (JUDGE.name, JUDGE.model, JUDGE.prompt_version) == ("rule", "rule-v1", "rule-v1")


@pytest.mark.parametrize("prediction", ["", "   ", "\n"])
def test_empty_prediction_is_incorrect_not_failed(prediction):
    result = JUDGE.judge("Which lung?", "Right lung", prediction)
    assert result.verdict == INCORRECT != FAILED
    assert result.reason == "empty prediction"


CASES = [
    # question, reference, prediction, verdict, reason starts with
    ("Which lung?", "Right lung.", "the right lung", CORRECT, "exact match"),
    ("Which lung contains the nodule?", "Right lung", "The nodule is in the right lung",
     CORRECT, "spatial terms agree"),
    ("In which lobe is the nodule?", "Left lower lobe", "Right lower lobe", INCORRECT,
     "spatial conflict"),
    ("In which lobe is the nodule?", "Right upper lobe", "right lung", INCORRECT,
     "spatial terms missing"),
    ("In which lobe is the nodule?", "Right upper lobe", "RUL", CORRECT, "spatial terms agree"),
    ("Where are the nodules?", "In both lungs.", "In the right lung.", INCORRECT,
     "spatial conflict"),
    ("Is the nodule central or peripheral?", "Peripheral", "It is central.", INCORRECT,
     "spatial conflict"),
    ("Is the nodule central or peripheral?", "Peripheral", "Subpleural, peripheral.", CORRECT,
     "spatial terms agree"),
    ("Is there a nodule?", "Yes", "yes, it does", CORRECT, "yes/no polarity agrees"),
    ("Is there a nodule?", "No", "There is no nodule.", CORRECT, "yes/no polarity agrees"),
    ("Is there pleural effusion?", "No", "Not present.", CORRECT, "yes/no polarity agrees"),
    ("Is there pleural effusion?", "No", "Absent", CORRECT, "yes/no polarity agrees"),
    ("Is there a nodule?", "No", "A nodule is present.", INCORRECT, "yes/no polarity differs"),
    ("Are there enlarged lymph nodes?", "Yes", "Nodes are enlarged in the mediastinum.",
     CORRECT, "yes/no polarity agrees"),
    ("Is there a nodule in the left lung?", "Yes, in the left lung.", "Yes, in the right lung.",
     INCORRECT, "yes/no polarity agrees but spatial conflict"),
    ("What is the size of the nodule?", "6 mm", "About 0.6 cm.", CORRECT, "measurement"),
    ("What is the size of the nodule?", "6 mm", "12 mm", INCORRECT, "measurement mismatch"),
    ("What is the size of the nodule?", "6 mm", "A small nodule", INCORRECT, "measurement missing"),
    ("How many lobes does the consolidation involve?", "Two lobes", "2", CORRECT, "count"),
    ("How many lobes does the consolidation involve?", "Two lobes", "three lobes", INCORRECT,
     "count mismatch"),
    ("What is the attenuation of the nodule?", "Ground-glass", "ground glass attenuation",
     CORRECT, "token F1"),
    ("What is the attenuation of the nodule?", "Ground-glass", "Solid.", INCORRECT, "token F1"),
]


@pytest.mark.parametrize("question, reference, prediction, verdict, reason", CASES)
def test_known_inputs(question, reference, prediction, verdict, reason):
    result = JUDGE.judge(question, reference, prediction)
    assert result.verdict == verdict, result.reason
    assert result.reason.startswith(reason), result.reason


def test_no_inside_nodule_is_not_a_negation():
    assert answer_polarity("Nodule seen.", "Is there a nodule?") is True
    assert answer_polarity("Node is enlarged.", "Is there any node?") is True
    assert answer_polarity("No nodule.") is False
    assert JUDGE.judge("Is there a nodule?", "Yes", "Nodule in the right lung.").verdict == CORRECT


def test_cleft_is_not_laterality():
    result = JUDGE.judge("Where is the cleft?", "In the right lung", "A cleft in the right lung")
    assert result.verdict == CORRECT, result.reason


def test_helpers():
    assert normalise_answer("  The Right, upper  lobe! ") == "right upper lobe"
    assert normalise_answer("5.5 mm.") == "5.5 mm"
    assert measurements_mm("15x11 mm and 1.5 cm") == [15.0, 11.0, 15.0]
    assert token_f1("Mediastinum", "in the mediastinum") == 1.0


def test_yes_no_answers_are_not_tripped_by_negation_scope():
    result = JUDGE.judge(
        "Were any enlarged lymph nodes detected in the bilateral hilar regions?",
        "No enlarged lymph nodes were detected in the bilateral hilar regions.",
        "No, the bilateral hilar lymph nodes were not enlarged.")
    assert result.verdict == CORRECT, result.reason
