import pytest

from ct_spatial_bench.judges.parsing import parse_batch, parse_yes_no


@pytest.mark.parametrize("reply, verdict", [
    ("YES", "correct"), ("yes.", "correct"), ("**Yes** - same lobe", "correct"),
    ("Answer: YES", "correct"), ("Final answer - no", "incorrect"), ("NO", "incorrect"),
    ("CORRECT", "correct"), ("INCORRECT", "incorrect"), ("Incorrect: wrong side", "incorrect"),
    ("true", "correct"),
])
def test_anchored_yes_no(reply, verdict):
    assert parse_yes_no(reply).verdict == verdict


@pytest.mark.parametrize("reply", [
    "", None, "Not sure", "I cannot determine this from the information given.",
    "The prediction is correct", "Nodule in the left lung", "Yesterday",
    "No, wait... yes",  # the judge changed its mind: no verdict (issue 21)
])
def test_unparseable_or_refused_is_failed_with_raw_kept(reply):
    judgement = parse_yes_no(reply)
    assert judgement.verdict == "failed"
    assert judgement.raw == (reply or "")


def test_batch_is_matched_by_index_not_position():
    reply = '```json\n[{"index": 3, "verdict": "NO"}, {"index": 1, "verdict": "YES"},' \
            ' {"index": 2, "verdict": "INCORRECT", "reason": "wrong side"}]\n```'
    got = parse_batch(reply, 3)
    assert [j.verdict for j in got] == ["correct", "incorrect", "incorrect"]
    assert got[1].reason == "wrong side" and got[0].raw == reply


def test_batch_with_inexact_numbering_fails_as_a_whole():
    """Issue 21: a reply whose numbers are not exactly those asked cannot be matched safely."""
    reply = ('{"results": [{"index": 1, "verdict": true}, {"index": 2, "verdict": "YES"}, '
             '{"index": 2, "verdict": "NO"}, {"index": 4, "verdict": "maybe"}, "junk", '
             '{"index": "x"}]}')
    got = parse_batch(reply, 5)
    assert [j.verdict for j in got] == ["failed"] * 5
    assert got[0].reason.startswith("batch reply refused")
    numbered_from_0 = '[{"index": 0, "verdict": "YES"}, {"index": 1, "verdict": "NO"}]'
    assert [j.verdict for j in parse_batch(numbered_from_0, 2)] == ["failed", "failed"]
    assert "not exactly 1..2" in parse_batch(numbered_from_0, 2)[0].reason


def test_batch_unreadable_item_fails_alone_when_the_numbering_is_exact():
    reply = '[{"index": 2, "verdict": "maybe"}, {"index": 1, "verdict": "YES"}]'
    assert [j.verdict for j in parse_batch(reply, 2)] == ["correct", "failed"]


def test_batch_without_json_fails_every_item():
    got = parse_batch("I'm sorry, I can't help with that.", 2)
    assert [j.verdict for j in got] == ["failed", "failed"]
    assert got[0].raw.startswith("I'm sorry")
