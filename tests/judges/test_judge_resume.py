"""The cache: a killed run resumes without asking any answered item twice; reruns call nothing."""

from support.fake_llm_server import GOOD_KEY, PROTOCOL, PROVIDERS
from support.killed_runs import cached_rows, run_and_kill

from ct_spatial_bench.judges.engine import judge_predictions

N_ITEMS = 40


def qa_and_predictions(n=N_ITEMS, models=("m",)):
    items = [{"qa_id": f"c::{i}", "case_id": "c", "image_path": "", "question": f"Where? ({i})",
              "answer": f"answer {i}", "categories": [], "source": "t", "meta": {}}
             for i in range(n)]
    # Distinct texts (the server counts requests per prediction), a third of them wrong.
    preds = [{"qa_id": f"c::{i}", "model": m, "prediction": prediction_text(i), "status": "ok",
              "error": None} for m in models for i in range(n)]
    return items, preds


def prediction_text(i):
    return f"answer {i}" + (" (wrong)" if i % 3 == 0 else "")


# Run in a child process, so that it can be killed like a crashed job.
CHILD = """
import json, sys
from ct_spatial_bench.judges.registry import create_judge
from ct_spatial_bench.judges.engine import judge_predictions
urls, items, preds, cache = json.loads(sys.argv[1])
judges = [create_judge(p, {"api_key": "%s", "base_url": urls[p], "concurrency": 2,
                           "backoff_base_s": 0.01}) for p in urls]
judge_predictions(judges, items, preds, cache_path=cache, progress=False)
""" % GOOD_KEY


def make_judges(make_judge):
    return [make_judge(p, concurrency=2) for p in PROVIDERS]


def test_killed_run_resumes_without_asking_any_answered_item_twice(fake_server, make_judge,
                                                                     tmp_path):
    items, preds = qa_and_predictions()
    cache = tmp_path / "judge_cache.sqlite"
    run_and_kill(fake_server, CHILD, [fake_server.urls, items, preds, str(cache)], cache,
                 "verdicts", answers=25)
    first_answers = sum(fake_server.answered.values())
    assert 25 <= first_answers < 3 * N_ITEMS
    assert cached_rows(cache, "verdicts") == first_answers

    verdicts = judge_predictions(make_judges(make_judge), items, preds, cache_path=cache,
                                 progress=False)
    assert len(verdicts) == 3 * N_ITEMS
    assert {v["verdict"] for v in verdicts} == {"correct", "incorrect"}
    # The server's own count: every item was answered exactly once over both runs.
    distinct = {(PROTOCOL[p], prediction_text(i)) for p in PROVIDERS for i in range(N_ITEMS)}
    assert {key: fake_server.answered[key] for key in distinct} == dict.fromkeys(distinct, 1)
    assert cached_rows(cache, "verdicts") == len(distinct)

    before = fake_server.requests
    again = judge_predictions(make_judges(make_judge), items, preds, cache_path=cache,
                              progress=False)
    assert fake_server.requests == before  # a rerun makes zero calls
    assert again == verdicts


def test_same_text_for_two_models_is_one_call(fake_server, make_judge, tmp_path):
    items, preds = qa_and_predictions(n=6, models=("m1", "m2"))
    verdicts = judge_predictions([make_judge("openai")], items, preds, progress=False)
    assert len(verdicts) == 12 and {v["model"] for v in verdicts} == {"m1", "m2"}
    # 6 items x 2 models that predicted the same text: 6 calls, not 12.
    distinct = {(i["question"], i["answer"], p["prediction"]) for i, p in zip(items * 2, preds)}
    assert fake_server.requests == len(distinct) == 6


def test_refresh_asks_again(fake_server, make_judge, tmp_path):
    items, preds = qa_and_predictions(n=4)
    preds[0]["prediction"] = "x [[garbage]]"
    cache = tmp_path / "cache.sqlite"
    judge = make_judge("gemini")
    judge_predictions([judge], items, preds, cache_path=cache, progress=False)
    assert fake_server.requests == 4
    judge_predictions([judge], items, preds, cache_path=cache, refresh="failed", progress=False)
    assert fake_server.requests == 5  # only the cached failure
    judge_predictions([judge], items, preds, cache_path=cache, refresh=True, progress=False)
    assert fake_server.requests == 9


def test_prompt_version_is_part_of_the_key(fake_server, make_judge, tmp_path):
    items, preds = qa_and_predictions(n=3)
    cache = tmp_path / "cache.sqlite"
    judge_predictions([make_judge("qwen")], items, preds, cache_path=cache, progress=False)
    batched = make_judge("qwen", prompt="radiologist_batch_v1")
    verdicts = judge_predictions([batched], items, preds, cache_path=cache, progress=False)
    assert fake_server.requests == 3 + 1
    assert {v["prompt_version"].split("@")[0] for v in verdicts} == {"radiologist_batch_v1"}
