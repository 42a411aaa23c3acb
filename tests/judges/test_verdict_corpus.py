"""The YES/NO reply rule (conf/base/judge_prompts/radiologist_yes_no_v1.yml) on a corpus of
real-looking judge replies, each labelled by hand from the rule's text."""

from __future__ import annotations

import pytest

from ct_spatial_bench.judges.parsing import parse_yes_no

CORPUS = [
    # verdicts: the word alone, or at once followed by punctuation or a line break
    ("YES", "correct"),
    ("NO", "incorrect"),
    ("Yes", "correct"),
    ("no", "incorrect"),
    ("YES.", "correct"),
    ("NO.", "incorrect"),
    ("Yes.\nBoth place the nodule in the right upper lobe.", "correct"),
    ("NO\n\nThe reference says left; the prediction says right.", "incorrect"),
    ("No - the prediction names the wrong side.", "incorrect"),
    ("No, the reference states the lesion is posterior.", "incorrect"),
    ("Yes, both describe a left pleural effusion.", "correct"),
    ("**YES**", "correct"),
    ("**NO**: wrong lobe", "incorrect"),
    ("Answer: NO", "incorrect"),
    ("Final answer: YES", "correct"),
    ("`NO`", "incorrect"),
    ("  yes  ", "correct"),
    ("YES!", "correct"),
    ("INCORRECT", "incorrect"),
    ("Correct.", "correct"),
    # a verdict word running on into other words is no verdict
    ("No response from upstream model (error 502)", "failed"),
    ("No content returned.", "failed"),
    ("Yesterday's scan is not available.", "failed"),
    ("Nope", "failed"),
    ("Yes it is correct", "failed"),
    ("Not applicable", "failed"),
    ("Noted.", "failed"),
    ("Correctness cannot be assessed.", "failed"),
    # replies that do not answer the question asked, even when they open with a verdict word
    ("Yes, I can help with that!", "failed"),
    ("Yes! How can I help you today?", "failed"),
    ("No. I'm sorry, I cannot provide medical advice.", "failed"),
    ("No, I'm unable to assist with this request.", "failed"),
    ("I'm sorry, but I can't help with that.", "failed"),
    ("As an AI language model, I cannot interpret CT scans.", "failed"),
    ("Error: 429 Too Many Requests. Please try again later.", "failed"),
    ("No: upstream timed out", "failed"),
    ("502 Bad Gateway", "failed"),
    ("<html><body>Service Unavailable</body></html>", "failed"),
    ("The prediction is correct.", "failed"),
    # empty and markdown-only replies
    ("", "failed"),
    ("   \n ", "failed"),
    ("**", "failed"),
    ("```\n```", "failed"),
    ("---", "failed"),
]


@pytest.mark.parametrize("reply, verdict", CORPUS)
def test_reply_rule(reply, verdict):
    judgement = parse_yes_no(reply)
    assert judgement.verdict == verdict, judgement.reason
    assert judgement.raw == reply


def test_the_corpus_is_mixed():
    verdicts = [v for _, v in CORPUS]
    assert min(verdicts.count(v) for v in ("correct", "incorrect", "failed")) >= 8
