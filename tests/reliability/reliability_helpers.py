"""Shared helpers of the reliability experiments (a module of its own: several test folders have
a ``conftest``, so importing names from one by that name is ambiguous)."""

from __future__ import annotations


from support.fake_llm_server import GOOD_KEY, FakeLLMServer
def qa_and_predictions(n: int, prefix: str = "answer"):
    """``n`` QA items and one prediction each, a third of them wrong; distinct texts, since the
    server counts requests per prediction."""
    items = [{"qa_id": f"c::{i}", "case_id": "c", "image_path": "", "question": f"Where? ({i})",
              "answer": f"{prefix} {i}", "categories": [], "source": "t", "meta": {}}
             for i in range(n)]
    preds = [{"qa_id": f"c::{i}", "model": "m", "prediction": prediction_text(i, prefix),
              "status": "ok", "error": None} for i in range(n)]
    return items, preds


def prediction_text(i: int, prefix: str = "answer") -> str:
    return f"{prefix} {i}" + (" (wrong)" if i % 3 == 0 else "")


def judge_config(server: FakeLLMServer, **config):
    return {"api_key": GOOD_KEY, "base_url": server.urls["openai"], "backoff_base_s": 0.01,
            "backoff_max_s": 0.05, "timeout_s": 2.0, "concurrency": 4, **config}


# A judging run in a child process: argv[1] is [config, items, preds, cache, lease_s] as JSON.
CHILD = """
import json, sys
from ct_spatial_bench.judges.registry import create_judge
from ct_spatial_bench.judges.engine import judge_predictions
config, items, preds, cache, lease_s = json.loads(sys.argv[1])
verdicts = judge_predictions([create_judge("openai", config)], items, preds, cache_path=cache,
                             progress=False, lease_s=lease_s)
print(json.dumps({v["qa_id"]: v["verdict"] for v in verdicts}))
"""
