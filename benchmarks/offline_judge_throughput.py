"""Offline-judge throughput on CT-SpatialVQA: one model's 9,077 predictions through the judges'
engine.

Times the shipped ``offline`` judge (and, for scale, the ``rule`` judge, in the same run) judging
RadFM's public predictions with ``judge_predictions`` on this machine's CPUs, from a cold process
(model load and first imports included). ``--threads`` caps torch's and BLAS's threads (2 is the
laptop figure the issue asks for); ``--artefact`` times another model file, e.g. one trained
with ``--params offline_judge.features=all`` (SBERT similarities included).

    python benchmarks/offline_judge_throughput.py [--source ../shared/reference/ct_spatialvqa]
        [--model radfm] [--threads 2] [--artefact PATH]
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", default=str(ROOT.parent / "shared/reference/ct_spatialvqa"))
    parser.add_argument("--model", default="radfm")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--artefact", default=None, help="offline model JSON (default: shipped)")
    args = parser.parse_args()
    for variable in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[variable] = str(args.threads)

    from ct_spatial_bench.judges.offline.judge import OfflineJudge
    from ct_spatial_bench.judges.rule import RuleJudge
    from ct_spatial_bench.judges.engine import judge_predictions
    from ct_spatial_bench.reproduction.summary import load_upstream_benchmark

    loaded = load_upstream_benchmark(args.source)
    predictions = [p for p in loaded["predictions"] if p["model"] == args.model]
    timings = {}
    for label, make in (("rule", RuleJudge),
                        ("offline", lambda: OfflineJudge(model_path=args.artefact))):
        started = time.perf_counter()
        judge = make()
        verdicts = judge_predictions([judge], loaded["qa_items"], predictions, progress=False)
        timings[label] = time.perf_counter() - started
        correct = sum(v["verdict"] == "correct" for v in verdicts)
        print(f"{label:8s} {len(verdicts)} items in {timings[label]:7.1f} s "  # noqa: T201
              f"({len(verdicts) / timings[label]:7.0f} items/s), {correct} judged correct")
    print(f"offline / rule time ratio: {timings['offline'] / timings['rule']:.1f} "  # noqa: T201
          f"on {args.threads} threads")


if __name__ == "__main__":
    main()
