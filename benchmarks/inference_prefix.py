"""Prefill work per question: every question alone vs. one shared prefix per volume.

A tiny random-weight Qwen2.5-VL (tests/support/tiny_vlm_folders.py, loaded by the Lingshu
adapter's own code, whose prompt is MedGemma's: instruction, each slice and its ``SLICE i``
label, the question last) answers the full split's shape: 9,077 questions on 1,601 volumes is
5.67 questions per volume, here 6 volumes with 6, 6, 5, 6, 6, 5 questions (34 / 6 = 5.67). Each
volume is MedGemma's slice budget, 85 slices, each scaled down from 896 px and 256 image tokens
to 16 px and 4 tokens. The same loaded model answers every volume both ways, per question
(``share_prefix: false``, what the adapter did before) and per volume, in the same run; the
weights are redrawn (seeded, std 0.5) so that the greedy tokens depend on the question and the
image (a tiny model at its initial scale says the same thing whatever it is asked), which makes
"identical" mean something. (A tiny Gemma 3 gives the same ratio; its answers ignore the image.)

    python benchmarks/inference_prefix.py [--volumes 6] [--slices 85] [--new-tokens 8]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the tiny models in tests/support

QUESTIONS = [
    "Is the nodule in the right or the left lung?",
    "Which lobe contains the largest nodule?",
    "Is the pleural effusion bilateral?",
    "Is the consolidation in the upper or the lower zone?",
    "Is the enlarged lymph node anterior or posterior to the trachea?",
    "Does the mass extend across the midline?",
]
PER_VOLUME = (6, 6, 5)  # 17 questions on 3 volumes: 5.67 per volume, the full split's mean


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--volumes", type=int, default=6, help="a multiple of 3")
    parser.add_argument("--slices", type=int, default=85, help="MedGemma's slice budget")
    parser.add_argument("--new-tokens", type=int, default=8)
    args = parser.parse_args()

    import numpy as np
    import torch
    from support.tiny_vlm_folders import build_tiny_qwen2_5_vl
    from transformers import Qwen2_5_VLProcessor

    from ct_spatial_bench.models.base import Question
    from ct_spatial_bench.models.adapters.lingshu import Lingshu

    # transformers 5 gives this processor a video part that needs torchvision, which has no CPU
    # wheel matching torch here; nothing sends video (see tiny_vlm_folders.without_video_processor)
    Qwen2_5_VLProcessor.get_attributes = classmethod(lambda cls: ["image_processor", "tokenizer"])

    counts = [PER_VOLUME[i % 3] for i in range(args.volumes)]
    rng = np.random.default_rng(0)
    volumes = [rng.integers(0, 256, (args.slices, 16, 16, 3), dtype=np.uint8) for _ in counts]
    questions = [[Question(f"v{v}::{q}", QUESTIONS[q]) for q in range(n)]
                 for v, n in enumerate(counts)]
    print(f"{args.volumes} volumes x {args.slices} slices, {sum(counts)} questions "
          f"({sum(counts) / len(counts):.2f} per volume), {args.new_tokens} new tokens each")
    with tempfile.TemporaryDirectory() as folder:
        build_tiny_qwen2_5_vl(Path(folder))
        adapter = Lingshu()
        adapter.load({"model_path": folder, "device": "cpu", "dtype": "float32",
                      "generation": {"max_new_tokens": args.new_tokens}})
        torch.manual_seed(1)
        with torch.no_grad():
            for parameter in adapter.model.parameters():
                parameter.normal_(0, 0.5)
        runs = {}
        for share in (False, True, False, True):  # twice each, interleaved: warm-up drift
            adapter._config["share_prefix"] = share
            adapter._config["batch_questions"] = False  # prefix sharing alone (see inference_batch)
            started = time.perf_counter()
            answers = [a for image, qs in zip(volumes, questions)
                       for a in adapter.answer_volume(image, qs)]
            runs.setdefault(share, []).append((time.perf_counter() - started, answers))
    n = sum(counts)
    (alone_s, alone), (shared_s, shared) = (min(runs[s], key=lambda r: r[0]) for s in (False,
                                                                                     True))
    a = sum(x.prefill_tokens for x in alone) / n
    b = sum(x.prefill_tokens for x in shared) / n
    prompt = sum(x.prompt_tokens for x in alone) / n
    identical = [x.text for x in alone] == [x.text for x in shared] and all(
        [x.text for x in run[1]] == [x.text for x in alone] for s in runs for run in runs[s])
    distinct = len({x.text for x in alone})
    by_question = {}
    for x, qid in zip(alone, [q.qa_id for qs in questions for q in qs]):
        by_question.setdefault(qid.split("::")[1], set()).add(x.text)
    image_dependent = sum(len(texts) > 1 for texts in by_question.values())
    print(f"prompt tokens per question: {prompt:.0f}; {distinct} distinct answers of {n}; "
          f"{image_dependent} of {len(by_question)} questions answered differently on "
          "different volumes")
    print(f"wall time: {alone_s:.2f} s per-question, {shared_s:.2f} s per-volume, "
          f"{alone_s / shared_s:.2f}x faster (best of 2 runs each, CPU, tiny model)")
    print(f"prefill tokens per question: {a:.0f} per-question, {b:.0f} per-volume, "
          f"{a / b:.2f}x fewer; outputs identical: {'yes' if identical else 'NO'}")


if __name__ == "__main__":
    main()
