"""Issue 21: a YES/NO reply whose text after the verdict word refuses, apologises, reports an error
or a status code, or asks for something is ``failed``, never a verdict.

The corpus is written from what the providers document and send, not from the parser: OpenAI's
error-code guide (401 "Incorrect API key provided", 429 "Rate limit reached for requests" and "You
exceeded your current quota, please check your plan and billing details", 500 "The server had an
error while processing your request", 503 "The engine is currently overloaded, please try again
later"), Gemini's troubleshooting table (400 INVALID_ARGUMENT / FAILED_PRECONDITION, 403
PERMISSION_DENIED, 404 NOT_FOUND, 429 RESOURCE_EXHAUSTED "Resource has been exhausted (e.g. check
quota).", 500 INTERNAL, 503 UNAVAILABLE "The model is overloaded. Please try again later.", 504
DEADLINE_EXCEEDED), DashScope's codes (Throttling.RateQuota "Requests rate limit exceeded, please
try again later.", Throttling.AllocationQuota, InvalidApiKey, DataInspectionFailed, Arrearage,
InternalError), the assistants' stock refusals, and proxies' HTML error pages; each behind a
verdict word as a judge or a proxy in front of it produces them ("No, 429"). Beside them, real
verdicts with justifications in CT language ("blocked bronchus", "status post", "450 HU",
"not found in the reference") that must still be read as verdicts. Labels are by hand.
"""

from __future__ import annotations

import pytest

from ct_spatial_bench.judges.parsing import parse_yes_no

C, I, F = "correct", "incorrect", "failed"

VERDICTS = [
    ("YES", C), ("NO", I), ("Yes.", C), ("No.", I), ("yes", C), ("no", I),
    ("YES - both place the nodule in the right upper lobe.", C),
    ("NO - the reference says left, the prediction says right.", I),
    ("No. The lesion is in the left lower lobe, not the right.", I),
    ("Yes. Same side and same level.", C),
    ("NO. The reference gives 12 mm; the prediction says 45 mm.", I),
    ("NO. The reference describes a blocked bronchus in the left lower lobe; the prediction "
     "places it on the right.", I),
    ("No. Status post right lobectomy in the reference; the prediction says left.", I),
    ("YES. Both describe a 450 HU calcification in the anterior mediastinum.", C),
    ("NO. The effusion named by the prediction is not found in the reference.", I),
    ("NO. The prediction gives insufficient detail: it omits the side.", I),
    ("Yes, both say bilateral lower lobe consolidation.", C),
    ("No, the prediction says anterior where the reference says posterior.", I),
    ("**YES**", C), ("**NO** - wrong lobe", I), ("Answer: YES", C), ("Verdict: NO", I),
    ("Final answer: no.", I), ("`YES`", C), ("CORRECT", C), ("INCORRECT", I),
    ("Incorrect: the prediction omits the left-sided effusion.", I),
    ("Correct. Both place the mass centrally.", C), ("TRUE", C), ("FALSE", I),
    ("YES\nBoth describe the nodule as peripheral.", C),
    ("NO\n\nThe reference locates the lesion in segment 6 of the right lower lobe.", I),
    ("No; the reference is superior, the prediction inferior.", I),
    ("Yes: same finding, same location.", C),
    ("NO. The prediction's extent (three levels) differs from the reference (one level).", I),
    ("Yes. The prediction is actually more specific but agrees on the side.", C),
    ("No. The reference mentions a 5 mm nodule in the right middle lobe only.", I),
    ("NO! Laterality is reversed.", I),
    ("yes.", C), ("no.", I),
    ("NO. The right-sided location is not supported by the reference.", I),
    ("No. The reference places the nodule in the left upper lobe region, the prediction in "
     "the lingula.", I),
]

REFUSALS_AFTER_A_VERDICT = [
    ("No, I refuse.", F),
    ("No. I refuse to evaluate medical images.", F),
    ("No, I'm sorry, but I can't help with that.", F),
    ("Yes — but I'm sorry, I can't provide a medical opinion.", F),
    ("No. I'm sorry, I cannot provide medical advice.", F),
    ("NO. I'm unable to assist with this request.", F),
    ("No, I can't assist with that.", F),
    ("No, I am not able to determine this from text alone.", F),
    ("YES. Unfortunately I cannot view the CT scan itself.", F),
    ("No. As an AI language model, I cannot interpret CT scans.", F),
    ("No. As an AI, I don't have access to the images.", F),
    ("Yes, I can help with that!", F),
    ("Yes! How can I help you today?", F),
    ("No, I won't judge clinical correctness.", F),
    ("NO. This request violates our usage policies.", F),
    ("No. I'm just a language model, so I can't help you with that.", F),
    ("Yes, happy to help. Could you share the reference answer?", F),
    ("No: I apologize, but I cannot complete this evaluation.", F),
    ("No, I must decline to provide a diagnosis.", F),
    ("No, wait, yes.", F),
    ("No. I'm not sure.", F),
    ("Yes. I don't know which side the reference means.", F),
    ("NO - I am not comfortable making this judgement.", F),
    ("No. Sorry about that!", F),
    ("YES. Content filtered due to safety settings.", F),
]

ERRORS_AFTER_A_VERDICT = [
    ("No: server overloaded", F),
    ("No, 429", F),
    ("NO (429)", F),
    ("No: 503", F),
    ("No. 500 Internal Server Error", F),
    ("No, 502 Bad Gateway", F),
    ("No - 504 Gateway Time-out", F),
    ("No: upstream timed out", F),
    ("No: Rate limit reached for requests.", F),
    ("No. Rate limit reached for gpt-4o in organization org-abc on tokens per min (TPM): "
     "Limit 30000, Used 29800, Requested 512.", F),
    ("No, You exceeded your current quota, please check your plan and billing details.", F),
    ("No. The server had an error while processing your request. Sorry about that!", F),
    ("NO. The engine is currently overloaded, please try again later.", F),
    ("No. That model is currently overloaded with other requests.", F),
    ("No: Incorrect API key provided: sk-abc***wxyz.", F),
    ("No: Invalid Authentication", F),
    ("No. You must be a member of an organization to use the API.", F),
    ("No: Country, region, or territory not supported.", F),
    ("No. The model `gpt-4o-x` does not exist or you do not have access to it.", F),
    ("No. This model's maximum context length is 8192 tokens.", F),
    ("No: Request timed out.", F),
    ("No: APIConnectionError: Connection error.", F),
    ("NO: RESOURCE_EXHAUSTED", F),
    ("No. Resource has been exhausted (e.g. check quota).", F),
    ("No. The model is overloaded. Please try again later.", F),
    ("No: INVALID_ARGUMENT", F),
    ("No. FAILED_PRECONDITION: User location is not supported for the API use.", F),
    ("No: PERMISSION_DENIED", F),
    ("No: API key not valid. Please pass a valid API key.", F),
    ("No. INTERNAL: An internal error has occurred.", F),
    ("No: UNAVAILABLE", F),
    ("No: DEADLINE_EXCEEDED", F),
    ("No. Throttling.RateQuota: Requests rate limit exceeded, please try again later.", F),
    ("No. Throttling.AllocationQuota: Allocated quota exceeded, please increase your quota "
     "limit.", F),
    ("No: InvalidApiKey: Invalid API-key provided.", F),
    ("No. DataInspectionFailed: Input data may contain inappropriate content.", F),
    ("No: Arrearage: Access denied, please make sure your account is in good standing.", F),
    ("No. InternalError: An internal error has occured, please try again later or contact "
     "service support.", F),
    ("No: Requests throttling triggered.", F),
    ("No. Service Unavailable", F),
    ("NO (error: context_length_exceeded)", F),
    ("No, error code 1300", F),
    ("No: HTTP 401 Unauthorized", F),
    ("No - status code 503", F),
    ("No: Too Many Requests", F),
    ("No, the request was blocked by the content filter.", F),
    ("No. Insufficient balance: please top up.", F),
    ("No. Traceback (most recent call last):", F),
    ("No: ReadTimeout", F),
    ("Yes. Error: 500", F),
]

ASKS_AFTER_A_VERDICT = [
    ("Correct? No.", F),
    ("Yes?", F),
    ("No? The prediction seems off.", F),
    ("Yes, but could you provide the CT images?", F),
    ("No. Please provide the reference answer.", F),
    ("No, please upload the scan so I can compare.", F),
    ("YES. Can you clarify what 'central' means here?", F),
    ("No - I need more information about the lesion.", F),
    ("No. More context is needed to judge.", F),
    ("No. There is insufficient information to decide.", F),
    ("Yes, let me know if you need anything else.", F),
    ("No. Would you like me to explain?", F),
    ("No. The image is not provided.", F),
    ("No. Could you attach the report?", F),
    ("Yes. Please clarify the question.", F),
    ("No: please retry", F),
    ("No. Please try again later.", F),
    ("No. The CT scan was not attached.", F),
    ("Yes, can you share the full report?", F),
    ("No. I require the full reference to decide.", F),
]

NO_VERDICT_WORD = [
    ("I'm sorry, but I can't assist with that.", F),
    ("I'm sorry, I can't help with that request.", F),
    ("I'm sorry, but I cannot provide medical diagnoses.", F),
    ("As a language model, I'm not able to assist you with that.", F),
    ("I'm not able to help with that, as I'm only a language model.", F),
    ("Rate limit reached for requests", F),
    ("You exceeded your current quota, please check your plan and billing details.", F),
    ("The server had an error while processing your request. Sorry about that!", F),
    ("The engine is currently overloaded, please try again later.", F),
    ("Incorrect API key provided: sk-abc************************wxyz.", F),
    ("Resource has been exhausted (e.g. check quota).", F),
    ("The model is overloaded. Please try again later.", F),
    ("Requests rate limit exceeded, please try again later.", F),
    ("Allocated quota exceeded, please increase your quota limit.", F),
    ("Invalid API-key provided.", F),
    ("Input data may contain inappropriate content.", F),
    ("502 Bad Gateway", F),
    ("<html><head><title>503 Service Temporarily Unavailable</title></head></html>", F),
    ("upstream connect error or disconnect/reset before headers. reset reason: overflow", F),
    ("Error: 429 Too Many Requests. Please try again later.", F),
    ("No response from upstream model (error 502)", F),
    ("Nope", F), ("Noted.", F), ("Yesterday's scan is not available.", F),
    ("The prediction is correct.", F), ("", F), ("   ", F), ("**", F),
]

CORPUS = (VERDICTS + REFUSALS_AFTER_A_VERDICT + ERRORS_AFTER_A_VERDICT
          + ASKS_AFTER_A_VERDICT + NO_VERDICT_WORD)


def test_the_corpus_is_large_and_has_no_repeats():
    assert len(CORPUS) >= 150
    assert len({reply for reply, _ in CORPUS}) == len(CORPUS)


@pytest.mark.parametrize("reply, label", CORPUS)
def test_every_reply_is_read_as_labelled(reply, label):
    judgement = parse_yes_no(reply)
    assert judgement.verdict == label, (reply, judgement.reason)
    assert judgement.raw == reply


def test_zero_misreads_over_the_corpus():
    misread = [(reply, label, parse_yes_no(reply).verdict) for reply, label in CORPUS
               if parse_yes_no(reply).verdict != label]
    assert misread == []
