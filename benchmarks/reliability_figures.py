"""The figures of issue 14, measured on whichever code is on PYTHONPATH (run it on main and on
this branch to get "before" and "after"): requests per item, keys found in outputs, items
mis-scored. Every count of requests is the fake server's own (tests/support/fake_llm_server.py).

    PYTHONPATH=src python benchmarks/reliability_figures.py [--items 60]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the fake servers in tests/support

from support.fake_llm_server import GOOD_KEY, FakeLLMServer  # noqa: E402

KEY = "zq-live-Q9x8W7v6U5t4S3r2p1"  # no provider's shape: only redaction by value catches it
UPSTREAM = "No response from upstream model (error 502)"


def qa(n: int, wrong_every: int = 3):
    items = [{"qa_id": f"c::{i}", "case_id": "c", "image_path": "", "question": f"Where? ({i})",
              "answer": f"answer {i}", "categories": [], "source": "t", "meta": {}}
             for i in range(n)]
    preds = [{"qa_id": f"c::{i}", "model": "m", "status": "ok", "error": None,
              "prediction": f"answer {i}" + (" (wrong)" if i % wrong_every == 0 else "")}
             for i in range(n)]
    return items, preds


def config(server, **extra):
    return {"api_key": GOOD_KEY, "base_url": server.urls["openai"], "backoff_base_s": 0.01,
            "backoff_max_s": 0.05, "timeout_s": 2.0, "concurrency": 4, **extra}


def child(code: str, args, limit: int | None = None) -> subprocess.CompletedProcess:
    prefix = ("import resource, signal\nsignal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
              f"resource.setrlimit(resource.RLIMIT_FSIZE, ({limit}, {limit}))\n") if limit else ""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    return subprocess.Popen([sys.executable, "-c", CHILD.replace("#LIMIT\n", prefix),
                             json.dumps(args)], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


CHILD = """
import json, sys
from ct_spatial_bench.judges.registry import create_judge
from ct_spatial_bench.judges.engine import judge_predictions
config, items, preds, cache = json.loads(sys.argv[1])
judge = create_judge("openai", config)
#LIMIT
judge_predictions([judge], items, preds, cache_path=cache, progress=False)
"""


def keys_in_outputs(tmp: Path) -> dict:
    from ct_spatial_bench.datasets import JsonLinesDataset
    from ct_spatial_bench.judges.jury import jury_decisions
    from ct_spatial_bench.judges.registry import create_judge
    from ct_spatial_bench.judges.engine import judge_predictions
    from ct_spatial_bench.metrics.accuracy import accuracy_by_category, accuracy_by_model
    from ct_spatial_bench.metrics.text import per_item_text_metrics, text_metrics_summary
    from ct_spatial_bench.provenance import command_line
    from ct_spatial_bench.reporting.report import full_html_report

    os.environ["OPENAI_API_KEY"] = KEY
    server = FakeLLMServer(echo_key="full").start()
    records: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: records.append(handler.format(record))
    logging.getLogger().addHandler(handler)
    try:
        from ct_spatial_bench.secrets import install_log_redaction
        install_log_redaction()
    except ImportError:
        pass
    items, preds = qa(6)
    preds[1].update(status="error", error=f"AuthenticationError: Incorrect API key: {KEY}")
    verdicts = judge_predictions([create_judge("openai", config(server, api_key=KEY))], items,
                                 preds, progress=False)
    server.stop()
    logging.getLogger().removeHandler(handler)
    JsonLinesDataset(str(tmp / "verdicts.jsonl")).save(verdicts)
    JsonLinesDataset(str(tmp / "predictions.jsonl")).save(preds)
    decisions = jury_decisions(verdicts, rule="majority")
    per_item = per_item_text_metrics(items, preds, sbert=False)
    report = full_html_report(
        qa_items=items, predictions=preds, verdicts=verdicts, decisions=decisions,
        accuracy_rows=accuracy_by_model(items, preds, decisions, n_boot=20),
        text_summary_rows=text_metrics_summary(per_item, items, preds), per_item_rows=per_item,
        category_rows=accuracy_by_category(items, decisions, preds, n_boot=20),
        agreement_rows=[], interval_rows=[], paired_rows=[], run_info={})
    manifest = " ".join(command_line(["kedro", "run", f"--params=judging.api_key={KEY}"]) +
                        command_line(["kedro", "run", f"--params=a=1,judging.token_x={KEY}"]))
    texts = {"verdicts.jsonl": (tmp / "verdicts.jsonl").read_text(),
             "predictions.jsonl": (tmp / "predictions.jsonl").read_text(),
             "report.html": report, "log records": "\n".join(records), "manifest command": manifest}
    return {name: text.count(KEY) for name, text in texts.items()}


def key_sent_elsewhere() -> int:
    from ct_spatial_bench.models.adapters.openai_vlm import OpenAIVisionLanguageModel

    os.environ["OPENAI_API_KEY"] = KEY
    server = FakeLLMServer().start()
    model = OpenAIVisionLanguageModel()
    model.load({"model": "served", "base_url": server.urls["openai"], "max_retries": 0})
    try:
        model.client.chat.completions.create(model="served",
                                             messages=[{"role": "user", "content": "hi"}])
    except Exception:  # noqa: BLE001 - a 401 either way
        pass
    server.stop()
    return server.keys_seen.count(KEY)


def disk_full(tmp: Path, n: int) -> dict:
    from ct_spatial_bench.judges.registry import create_judge
    from ct_spatial_bench.judges.engine import judge_predictions
    from support.killed_runs import cached_rows

    server = FakeLLMServer().start()
    items, preds = qa(n)
    cache = tmp / "full.sqlite"
    run = child(CHILD, [config(server, concurrency=2), items, preds, str(cache)],
                limit=96 * 1024)
    run.communicate(timeout=300)
    paid, stored = sum(server.answered.values()), cached_rows(cache, "verdicts")
    judge_predictions([create_judge("openai", config(server))], items, preds, cache_path=cache,
                      progress=False)
    server.stop()
    return {"paid in the full-disk run": paid, "stored": stored, "exit code": run.returncode,
            "paid again by the next run": sum(server.answered.values()) - n}


def concurrent(tmp: Path, n: int) -> float:
    server = FakeLLMServer(latency_s=0.2).start()
    items, preds = qa(n)
    args = [config(server), items, preds, str(tmp / "shared.sqlite")]
    runs = [child(CHILD, args), child(CHILD, args)]
    for run in runs:
        run.communicate(timeout=300)
    server.stop()
    return server.requests / n


def garbage(n: int) -> dict:
    from ct_spatial_bench.judges.registry import create_judge
    from ct_spatial_bench.judges.engine import judge_predictions

    server = FakeLLMServer().start()
    items, preds = qa(n, wrong_every=2)
    server.answer = lambda user: (user, UPSTREAM)
    verdicts = judge_predictions([create_judge("openai", config(server))], items, preds,
                                 progress=False)
    truly = {p["qa_id"]: "(wrong)" not in p["prediction"] for p in preds}
    server.answer = lambda user: (user, "Yes, I can help with that!")
    offers = judge_predictions([create_judge("openai", config(server))], items[:10], preds[:10],
                               progress=False, refresh=True)
    server.stop()
    return {"read as a verdict": sum(v["verdict"] != "failed" for v in verdicts),
            "truly correct read as incorrect": sum(v["verdict"] == "incorrect" and truly[v["qa_id"]]
                                                   for v in verdicts),
            "offers of help read as correct (of 10)": sum(v["verdict"] == "correct"
                                                          for v in offers)}


def failures_as_answers() -> dict:
    from ct_spatial_bench.metrics.accuracy import accuracy_by_model
    from ct_spatial_bench.pipelines.judging.nodes import judge_all

    items, preds = qa(10)
    for pred in preds:  # every model call got a 401
        pred.update(status="error", prediction="", error="AuthenticationError: 401")
    (row,) = accuracy_by_model(items, preds, {}, n_boot=10)
    server = FakeLLMServer().start()
    ok_items, ok_preds = qa(5)
    ok_preds[0]["prediction"] = ""
    try:
        judge_all(ok_items, ok_preds, {"judges": [{"name": "openai", "config": config(
            server, api_key="bad-key-123456")}]})
        dead_judge = "exit 0 (verdicts written)"
    except Exception as exc:  # noqa: BLE001
        dead_judge = f"stops: {type(exc).__name__}"
    server.answer = lambda user: (user, "YES")
    from ct_spatial_bench.judges.registry import create_judge
    from ct_spatial_bench.judges.engine import judge_predictions
    before = server.requests
    empty = [{**p, "prediction": ""} for p in ok_preds]
    judge_predictions([create_judge("openai", config(server))], ok_items, empty, progress=False)
    server.stop()
    return {"accuracy when every call got a 401": row["accuracy"],
            "n_errors": row.get("n_errors"), "judge failing every call": dead_judge,
            "requests for 5 empty predictions": server.requests - before}


def replaced_volumes(tmp: Path) -> dict:
    import numpy as np

    sys.path.insert(0, str(ROOT / "tests" / "reliability"))
    from test_replaced_volumes import _expected, _run, _volume

    raw = tmp / "raw"
    raw.mkdir()
    keys = ["kept", "replaced", "truncated"]
    for seed, key in enumerate(keys):
        _volume(raw / f"{key}.nii.gz", seed)
    _run(tmp, keys)
    _volume(raw / "replaced.nii.gz", seed=99)
    data = (raw / "truncated.nii.gz").read_bytes()
    (raw / "truncated.nii.gz").write_bytes(data[: len(data) // 2])
    manifest = _run(tmp, keys)
    inputs = tmp / "inputs" / "small"
    stale = int(not np.array_equal(np.load(inputs / "replaced.npy"),
                                   _expected(raw / "replaced.nii.gz")))
    stale += int((inputs / "truncated.npy").exists())
    return {"stale inputs kept (of 2 changed volumes)": stale,
            "truncated volume status": manifest["truncated"]["status"]}


def bad_records(tmp: Path) -> dict:
    from ct_spatial_bench.datasets.predictions_dataset import PredictionsDataset
    from ct_spatial_bench.records import iter_jsonl

    path, bad = tmp / "m.jsonl", tmp / "bad.jsonl"
    path.write_bytes(b'{"qa_id": "a", "model": "m"}\n{"qa_id": "a", "model": "m"}\n')
    bad.write_bytes(b'{"qa_id": "a"}\n{"x": "caf\xe9"}\n')
    found = {}
    try:
        PredictionsDataset(str(path)).load()
        found["duplicate line"] = "loaded without error"
    except Exception as exc:  # noqa: BLE001
        found["duplicate line"] = str(exc)[-120:]
    try:
        list(iter_jsonl(bad))
        found["non-UTF-8 line"] = "read without error"
    except Exception as exc:  # noqa: BLE001
        found["non-UTF-8 line"] = str(exc)[-120:]
    return found


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=60)
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    figures = {}
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        steps = {
            "keys found in outputs (server echoes the key in its 401)": lambda: keys_in_outputs(tmp),
            "OPENAI_API_KEY requests sent to a non-OpenAI base_url": key_sent_elsewhere,
            "disk full (file-size limit) during judging": lambda: disk_full(tmp, args.items),
            "requests per item, two concurrent judging runs": lambda: concurrent(tmp,
                                                                                  args.items),
            f"garbage replies ({args.items} items, half truly correct)": lambda: garbage(
                args.items),
            "failures as answers": failures_as_answers,
            "replaced volumes": lambda: replaced_volumes(tmp),
            "bad records": lambda: bad_records(tmp),
        }
        for name, step in steps.items():
            try:
                figures[name] = step()
            except Exception as exc:  # noqa: BLE001 - a step this code cannot run is a figure too
                figures[name] = f"could not run: {type(exc).__name__}: {str(exc)[:200]}"
            print(f"\n{name}: {json.dumps(figures[name], default=str)}", flush=True)


if __name__ == "__main__":
    main()
