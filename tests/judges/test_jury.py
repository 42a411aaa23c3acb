import math
import random

import pytest

from ct_spatial_bench.judges.jury import decide, judge_agreement, jury_decision_rows, jury_decisions
from ct_spatial_bench.records import RecordError
from ct_spatial_bench.statistics import cohen_kappa, fleiss_kappa


def v(qa_id, judge, verdict, model="m"):
    return {"qa_id": qa_id, "model": model, "judge": judge, "judge_model": judge,
            "verdict": verdict}


# item -> verdicts of judges a, b, c (None: the judge gave no verdict on it)
TABLE = {
    "all_correct": ("correct", "correct", "correct"),
    "two_of_three": ("correct", "correct", "incorrect"),
    "one_of_three": ("correct", "incorrect", "incorrect"),
    "tie_after_failed": ("correct", "incorrect", "failed"),
    "one_usable": ("failed", "correct", "failed"),
    "all_failed": ("failed", "failed", "failed"),
    "missing_judge": ("correct", None, "correct"),
}


def verdicts():
    out = []
    for qa_id, votes in TABLE.items():
        for judge, verdict in zip("abc", votes):
            if verdict is not None:
                out.append(v(qa_id, judge, verdict))
    return out


@pytest.mark.parametrize("rule, expected", [
    ("majority", {"all_correct": "correct", "two_of_three": "correct",
                  "one_of_three": "incorrect", "tie_after_failed": "incorrect",
                  "one_usable": "correct", "all_failed": "failed", "missing_judge": "correct"}),
    ("strict", {"all_correct": "correct", "two_of_three": "incorrect",
                "one_of_three": "incorrect", "tie_after_failed": "incorrect",
                "one_usable": "correct", "all_failed": "failed", "missing_judge": "correct"}),
    ("mean066", {"all_correct": "correct", "two_of_three": "correct",
                 "one_of_three": "incorrect", "tie_after_failed": "incorrect",
                 "one_usable": "correct", "all_failed": "failed", "missing_judge": "correct"}),
])
def test_rules_on_hand_made_verdicts(rule, expected):
    decisions = jury_decisions(verdicts(), rule=rule)
    assert decisions == {("m", qa_id): d for qa_id, d in expected.items()}


def test_rules_differ_where_they_should():
    votes = ["correct"] * 3 + ["incorrect"] * 2  # 3/5 = 0.6
    assert decide(votes, "majority") == "correct"
    assert decide(votes, "mean066") == "incorrect"
    assert decide(votes, "strict") == "incorrect"


def test_single_judge_reduces_to_its_verdicts():
    for rule in ("majority", "strict", "mean066"):
        decisions = jury_decisions(verdicts(), judges=["b"], rule=rule)
        expected = {("m", q): votes[1] for q, votes in TABLE.items() if votes[1] is not None}
        assert decisions == expected


def test_shuffled_input_gives_the_same_decisions():
    shuffled = verdicts()
    random.Random(3).shuffle(shuffled)
    assert jury_decisions(shuffled, rule="mean066") == jury_decisions(verdicts(), rule="mean066")


def test_items_are_keyed_by_model_too():
    decisions = jury_decisions([v("x", "a", "correct", "m1"), v("x", "a", "incorrect", "m2")])
    assert decisions == {("m1", "x"): "correct", ("m2", "x"): "incorrect"}


def test_duplicate_verdict_is_an_error():
    with pytest.raises(RecordError, match="judge 'a': duplicate record for model 'm', qa_id 'x'"):
        jury_decisions([v("x", "a", "correct"), v("x", "b", "correct"), v("x", "a", "incorrect")])


def test_decision_rows_are_sorted_by_model_then_qa_id():
    # Two of three judges say correct for (m2, q1); one of three for (m1, q2): by hand.
    rows = jury_decision_rows(
        [v("q2", "a", "correct", "m1"), v("q2", "b", "incorrect", "m1"),
         v("q2", "c", "incorrect", "m1"), v("q1", "a", "correct", "m2"),
         v("q1", "b", "correct", "m2"), v("q1", "c", "incorrect", "m2")], rule="mean066")
    assert rows == [
        {"model": "m1", "qa_id": "q2", "rule": "mean066", "decision": "incorrect"},
        {"model": "m2", "qa_id": "q1", "rule": "mean066", "decision": "correct"},
    ]


def test_unknown_rule_and_bad_verdict_are_errors():
    with pytest.raises(ValueError, match="rule"):
        jury_decisions(verdicts(), rule="vibes")
    with pytest.raises(RecordError):
        jury_decisions([v("x", "a", "maybe")])


def test_cohen_kappa_on_known_tables():
    # 50 items: yes/yes 20, yes/no 5, no/yes 10, no/no 15 -> po 0.7, pe 0.5, kappa 0.4
    a = [1] * 20 + [1] * 5 + [0] * 10 + [0] * 15
    b = [1] * 20 + [0] * 5 + [1] * 10 + [0] * 15
    assert cohen_kappa(a, b) == pytest.approx(0.4)
    labels = ["correct", "incorrect", "incorrect", "correct"]
    assert cohen_kappa(labels, labels) == pytest.approx(1.0)
    assert cohen_kappa([1, 1, 0, 0], [1, 0, 0, 0]) == pytest.approx(0.5)
    assert math.isnan(cohen_kappa([1, 1], [1, 1]))  # chance agreement 1: undefined
    with pytest.raises(ValueError):
        cohen_kappa([1], [1, 0])


def test_fleiss_kappa_on_the_1971_example():
    # Fleiss' worked example (14 raters, 5 categories, 10 subjects): kappa 0.210
    table = [
        [0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
        [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7],
    ]
    assert fleiss_kappa(table) == pytest.approx(0.2099, abs=1e-4)
    with pytest.raises(ValueError):
        fleiss_kappa([[1, 2], [2, 0]])  # raters differ


def test_judge_agreement_uses_items_both_judged_non_failed():
    rows = {(r["judge_a"], r["judge_b"]): r for r in judge_agreement(verdicts())}
    assert set(rows) == {("a", "b"), ("a", "c"), ("b", "c")}
    # a and b both usable on: all_correct, two_of_three, one_of_three, tie_after_failed
    ab = rows[("a", "b")]
    assert ab["n"] == 4
    assert ab["agreement"] == pytest.approx(0.5)
    ac = rows[("a", "c")]  # all_correct, two_of_three, one_of_three, missing_judge
    assert ac["n"] == 4
    assert ac["agreement"] == pytest.approx(0.5)
    shuffled = verdicts()
    random.Random(5).shuffle(shuffled)
    assert judge_agreement(shuffled) == judge_agreement(verdicts())
    per_model = judge_agreement(verdicts(), by_model=True)
    assert {r["model"] for r in per_model} == {"m"}
