"""The slot score's reading rules (metrics/slot_reading.py), one case or more each, every expected
value read by hand from the text under tests/data/slot_labelling_guide.md."""

import pytest

from ct_spatial_bench.metrics.normalise import clean_prediction
from ct_spatial_bench.metrics.slot_reading import asked_slots, slot_terms
from ct_spatial_bench.metrics.slots import item_outcome, slot_outcomes

WHERE = "Where is the finding?"


def outcome(question, answer, prediction):
    return item_outcome(slot_outcomes(question, answer, prediction)) or "none"


def test_run_on_continuations_and_end_tokens_are_cut():
    assert clean_prediction("Left lung.###</s>") == "Left lung."
    assert clean_prediction("Left lung.Question: Which side?Answer: right") == "Left lung."
    assert outcome("Which lung holds the nodule?", "The left lung",
                   "The left lung.###Question: And the other?Answer: The right lung") == "agree"


def test_a_question_about_one_side_compares_that_side_only():
    assert asked_slots("Where is the effusion in the right hemithorax?", "Bilateral effusion") == {}
    assert asked_slots("Which lobe of the left lung holds the nodule?", "Left lower lobe") == {
        "vertical": frozenset({"lower"}), "lobe": frozenset({"LLL"})}


@pytest.mark.parametrize("answer, prediction, expected", [
    ("In the left upper lobe", "In the lingula", "agree"),        # the lingula is in the LUL
    ("In the left lower lobe", "In the lingula", "conflict"),     # ... not in the LLL
    ("In the right middle lobe", "In the lingula", "conflict"),   # ... nor on the right
])
def test_the_lingula_is_the_left_upper_lobe(answer, prediction, expected):
    assert outcome(WHERE, answer, prediction) == expected


def test_paratracheal_station_names_are_not_levels():
    assert asked_slots(WHERE, "Lower right paratracheal station") == {"side": frozenset({"right"})}
    # upper / lower in a sentence naming the station are the station's; right + bilateral: both
    assert asked_slots(WHERE, "In the paratracheal region, the right upper and bilateral lower "
                              "areas") == {"side": frozenset({"bilateral"})}
    # a lobe named beside a station keeps its level
    assert asked_slots(WHERE, "Right lower lobe nodule and a paratracheal node") == {
        "side": frozenset({"right"}), "vertical": frozenset({"lower"}),
        "lobe": frozenset({"RLL"})}


def test_the_hilum_is_a_region_and_perihilar_is_central():
    assert asked_slots(WHERE, "In the mediastinum and hilar regions") == {}
    assert asked_slots(WHERE, "In the left hilar region") == {"side": frozenset({"left"})}
    assert asked_slots(WHERE, "Perihilar consolidation") == {
        "centricity": frozenset({"perihilar"})}


@pytest.mark.parametrize("text, level", [
    ("at the level of the right hilum", "middle"),
    ("at the level of the carina", "middle"),
    ("above the carina", "upper"),
    ("just below the carina", "lower"),
])
def test_a_landmark_names_a_level(text, level):
    assert slot_terms(text)["vertical"] == {level}


def test_landmark_levels_against_a_stated_level():
    assert outcome(WHERE, "At the apical level of the right lung",
                   "At the level of the right hilum") == "conflict"
    assert outcome("At what level of the oesophagus is the hernia?", "At its lower end",
                   "At the level of the carina") == "conflict"
    assert outcome(WHERE, "Above the carina", "In the upper mediastinum") == "agree"


@pytest.mark.parametrize("question, answer", [
    ("Which segment of the left lower lobe holds the nodule?",
     "The posterobasal and mediobasal segments"),
    ("Which segment of the left lower lobe holds the nodule?", "Anteromedial basal segment"),
    ("Which segment of the left lower lobe holds the nodule?", "Anteromediobasal segment"),
])
def test_segment_position_words_are_the_segments_name(question, answer):
    assert asked_slots(question, answer) == {}


def test_medial_and_lateral_name_parts_not_slots():
    assert asked_slots(WHERE, "In the lateral crus of the right adrenal gland") == {
        "side": frozenset({"right"})}
    assert outcome(WHERE, "In the lateral crus of the right adrenal gland",
                   "In the right lower lobe") == "agree"  # the organ is wrong, the side is not


@pytest.mark.parametrize("question, answer, prediction, expected", [
    ("Is the effusion unilateral or bilateral?", "Bilateral", "Unilateral.", "conflict"),
    ("Are the nodules unilateral or bilateral?", "Unilateral, in the right lung", "Unilateral.",
     "agree"),
    ("Are the nodules unilateral or bilateral?", "Unilateral, in the right lung", "Bilateral.",
     "conflict"),
    ("Is it in one lung or both?", "Both lungs", "Only in the left lung.", "conflict"),
    ("Is it in one lung or both?", "Both lungs", "No.", "missing"),
    (WHERE, "In the right lung", "Unilateral.", "missing"),  # one side, but not which
])
def test_unilateral_is_one_side(question, answer, prediction, expected):
    assert outcome(question, answer, prediction) == expected


def test_each_lung_and_both_paired_organs_are_both_sides():
    assert outcome(WHERE, "In both lungs", "In the upper lobes of each lung") == "agree"
    assert asked_slots(WHERE, "In the mediastinum and both axillae") == {
        "side": frozenset({"bilateral"})}
    assert outcome(WHERE, "In the mediastinum and both axillae", "In the mediastinum") == "missing"
    assert slot_terms("both main bronchi")["side"] == {"bilateral"}


def test_both_sides_and_one_of_them_read_as_both():
    assert slot_terms("right middle lobe and both lower lobes")["side"] == {"bilateral"}
    assert slot_terms("right middle lobe and the lingula")["side"] == {"bilateral"}
    assert outcome(WHERE, "In the right middle lobe and the lower lobes of both lungs",
                   "In the right middle lobe and bilateral lower lobes") == "agree"


@pytest.mark.parametrize("text, lobes", [
    ("middle and lower lobes of the right lung", {"RML", "RLL"}),
    ("right upper, middle and lower lobes", {"RUL", "RML", "RLL"}),
    ("the right lung's lower lobe", {"RLL"}),
    ("both lung lower lobe basal segments", {"RLL", "LLL"}),
    ("upper and lower lobes of both lungs", {"RUL", "LUL", "RLL", "LLL"}),
])
def test_coordinated_lobes_are_each_read(text, lobes):
    assert slot_terms(text)["lobe"] == lobes


def test_a_lobe_list_against_one_lobe_hedges():
    assert outcome("Where are the changes in the right lung?", "In the middle lobe",
                   "In the middle and lower lobes of the right lung") == "hedge"


def test_a_run_together_midzone_is_the_middle():
    assert slot_terms("the posterior midzone of the spleen")["vertical"] == {"middle"}
    assert outcome(WHERE, "In the posterior midzone of the spleen",
                   "In the superior aspect of the spleen") == "conflict"


def test_a_comparative_question_reads_the_predominant_place():
    question = "Where is the effusion more prominent, on the left or the right?"
    assert asked_slots(question, "More prominent on the left, 12 mm compared to 5 mm on the "
                                 "right") == {"side": frozenset({"left"})}
    assert outcome("In which lobes are the opacities more prominent?", "Lower lobes of both lungs",
                   "More prominent in the left upper and lower lobes than in the right upper "
                   "and lower lobes") == "conflict"
    # without a comparative question, "than" keeps its place: both sides named
    assert outcome(WHERE, "In both lungs", "More on the right than on the left") == "agree"


def test_yes_no_questions():
    # answered yes/no: no slot; asking where as well: the place is asked
    assert asked_slots("Is there a nodule in the lungs?", "Yes, in the right lung.") == {}
    assert outcome("Is there any thickening, and if so, where?", "Yes, bilateral thickening.",
                   "No thickening.") == "missing"
    # a reference denying the finding locates nothing, whatever the question offers
    assert asked_slots("Is there thickening or effusion on either side?",
                       "Bilateral thickening-effusion was not detected.") == {}


def test_which_side_asks_only_the_side_unless_another_place_is_asked():
    assert asked_slots("On which side of the body is the cyst?",
                       "In the lower lobe of the right lung") == {"side": frozenset({"right"})}
    assert asked_slots("On which side and at what vertical level are the sequelae?",
                       "At the apical level of the right lung") == {
        "side": frozenset({"right"}), "vertical": frozenset({"upper"})}
    # a question implying the side ("lingular") still asks it
    assert asked_slots("Which side has sequelae in the inferior lingular segment?",
                       "The left lung") == {"side": frozenset({"left"})}


def test_a_question_naming_subpleural_gives_peripheral():
    assert asked_slots("Where are the subpleural nodules in the right lung's upper lobe?",
                       "Peripherally, subpleural, in the right upper lobe") == {}
