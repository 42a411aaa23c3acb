"""The judges' engine asks a judge the way the judge declares (batched, cached), never by its type."""

from ct_spatial_bench.judges.base import CachedJudge, Judge, Judgement
from ct_spatial_bench.judges.llm import LLMJudge
from ct_spatial_bench.judges.offline.judge import OfflineJudge
from ct_spatial_bench.judges.rule import RuleJudge
from ct_spatial_bench.judges.engine import judge_predictions

QA = [{"qa_id": f"q{i}", "question": f"Which side {i}?", "answer": "left"} for i in range(3)]
PREDS = [{"qa_id": "q0", "model": "m", "prediction": "left", "status": "ok"},
         {"qa_id": "q1", "model": "m", "prediction": "right", "status": "ok"},
         {"qa_id": "q2", "model": "m", "prediction": "", "status": "error", "error": "OOM"}]


class Exact(Judge):
    """Correct iff the prediction equals the answer; counts how it was called."""

    name, model, prompt_version = "exact", "exact-v1", "v1"

    def __init__(self):
        self.calls: list[str] = []

    def judge(self, question, answer, prediction):
        self.calls.append("judge")
        return Judgement(verdict="correct" if prediction == answer else "incorrect")

    def judge_batch(self, items):
        self.calls.append(f"judge_batch({len(items)})")
        return [Judgement(verdict="correct" if p == a else "incorrect") for _, a, p in items]


class BatchedExact(Exact):
    name = "batched_exact"
    batched = True


class BrokenBatch(BatchedExact):
    name = "broken"

    def judge_batch(self, items):
        raise RuntimeError("out of memory")


def verdict_words(verdicts):
    return [(v["judge"], v["qa_id"], v["verdict"]) for v in verdicts]


def test_declared_capabilities():
    assert (RuleJudge.batched, RuleJudge.cached) == (False, False)
    assert (OfflineJudge.batched, OfflineJudge.cached) == (True, False)
    assert LLMJudge.cached and CachedJudge in LLMJudge.__mro__
    assert isinstance(RuleJudge(), Judge)


def test_an_unbatched_judge_is_asked_item_by_item_even_with_judge_batch():
    judge = Exact()
    verdicts = judge_predictions([judge], QA, PREDS, progress=False)
    # The errored prediction is never shown to the judge: no answer, so failed with its error as
    # the reason (metrics count it as an error, outside accuracy).
    assert judge.calls == ["judge", "judge"]
    assert verdict_words(verdicts) == [("exact", "q0", "correct"), ("exact", "q1", "incorrect"),
                                       ("exact", "q2", "failed")]
    assert verdicts[2]["reason"] == "prediction error: OOM"


def test_a_batched_judge_gets_one_chunk_and_the_same_verdicts():
    judge = BatchedExact()
    verdicts = judge_predictions([judge], QA, PREDS, progress=False)
    assert judge.calls == ["judge_batch(2)"]
    assert [v["verdict"] for v in verdicts] == ["correct", "incorrect", "failed"]


def test_a_batch_that_raises_is_failed_item_by_item_never_incorrect():
    verdicts = judge_predictions([BrokenBatch()], QA, PREDS, progress=False)
    assert [v["verdict"] for v in verdicts] == ["failed", "failed", "failed"]
    assert verdicts[0]["reason"] == "RuntimeError: out of memory"


def test_verdicts_carry_designs_fields_in_judge_then_prediction_order():
    verdicts = judge_predictions([Exact(), BatchedExact()], QA, PREDS[:1], progress=False)
    assert [v["judge"] for v in verdicts] == ["exact", "batched_exact"]
    assert list(verdicts[0]) == ["qa_id", "model", "judge", "judge_model", "verdict", "reason",
                                 "raw", "prompt_version", "tokens", "latency_s"]
