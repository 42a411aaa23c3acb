"""Judging throughput: 9,077 items x 3 judges (openai, gemini, qwen SDKs) against a fake server.

The fake server (tests/support/fake_llm_server.py, its own process) answers every call after a
fixed latency (200 ms). The ideal wall time is calls x latency / concurrency (all judges run at
once, each with ``--concurrency`` calls in flight); the report gives the measured time against it,
then reruns on the same cache, which must make zero calls.

    python benchmarks/judge_throughput.py [--items 9077] [--latency 0.2] [--concurrency 64]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SERVER = ROOT / "tests" / "support" / "fake_llm_server.py"
PROVIDERS = {"openai": "{root}/v1", "gemini": "{root}", "qwen": "{root}/api/v1"}


def items_and_predictions(n: int) -> tuple[list[dict], list[dict]]:
    """``n`` distinct questions (CT-SpatialVQA's size by default), a third predicted wrong."""
    sides = ("left", "right")
    items = [{"qa_id": f"case_{i // 6}.nii.gz::{i % 6}", "case_id": f"case_{i // 6}.nii.gz",
              "image_path": "", "question": f"Where is finding {i} located?",
              "answer": f"{sides[i % 2]} lower lobe, segment {i % 10}", "categories": [],
              "source": "benchmark", "meta": {}} for i in range(n)]
    preds = [{"qa_id": item["qa_id"], "model": "bench", "status": "ok", "error": None,
              "prediction": item["answer"] if i % 3 else f"{sides[(i + 1) % 2]} upper lobe"}
             for i, item in enumerate(items)]
    return items, preds


def server_requests(root: str) -> int:
    with urllib.request.urlopen(f"{root}/stats") as response:
        return json.load(response)["requests"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=9077)
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--concurrency", type=int, default=64)
    args = parser.parse_args()

    from ct_spatial_bench.judges.registry import create_judge
    from ct_spatial_bench.judges.engine import judge_predictions

    server = subprocess.Popen([sys.executable, str(SERVER), "--latency", str(args.latency)],
                              stdout=subprocess.PIPE, text=True)
    try:
        root = f"http://127.0.0.1:{int(server.stdout.readline())}"
        items, preds = items_and_predictions(args.items)

        def judges():
            return [create_judge(name, {"api_key": "test-key", "base_url": url.format(root=root),
                                        "concurrency": args.concurrency, "timeout_s": 30})
                    for name, url in PROVIDERS.items()]

        with tempfile.TemporaryDirectory() as tmp:
            cache = Path(tmp) / "judge_cache.sqlite"
            started = time.perf_counter()
            verdicts = judge_predictions(judges(), items, preds, cache_path=cache, progress=False)
            wall = time.perf_counter() - started
            calls = server_requests(root)

            started = time.perf_counter()
            again = judge_predictions(judges(), items, preds, cache_path=cache, progress=False)
            rerun_wall = time.perf_counter() - started
            rerun_calls = server_requests(root) - calls

        in_flight = args.concurrency * len(PROVIDERS)
        ideal = calls * args.latency / in_flight
        failed = sum(v["verdict"] == "failed" for v in verdicts)
        print(f"items {args.items} x judges {len(PROVIDERS)} = verdicts {len(verdicts)} "
              f"(failed {failed})")
        print(f"calls {calls}, latency {args.latency * 1000:.0f} ms, concurrency "
              f"{args.concurrency} per judge ({in_flight} in flight)")
        print(f"wall {wall:.1f} s, ideal {ideal:.1f} s, ratio {wall / ideal:.2f}, "
              f"{calls / wall:.0f} calls/s")
        print(f"rerun: calls {rerun_calls}, wall {rerun_wall:.1f} s, "
              f"verdicts identical: {again == verdicts}")
        if rerun_calls != 0 or again != verdicts:
            raise SystemExit("the rerun made calls or changed verdicts")
    finally:
        server.terminate()
        server.wait(10)


if __name__ == "__main__":
    main()
