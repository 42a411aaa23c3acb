"""Decoding a volume's questions one at a time vs. as one batch after their shared prefix.

A tiny random-weight Qwen2.5-VL (tests/models/tiny_vlm_folders.py), loaded by the Lingshu
adapter's own code (Lingshu's 32 slices, each scaled down to 16 px and 4 image tokens), answers
6 volumes with CT-SpatialVQA's question counts (9,077 questions on 1,601 volumes is 5.67 per
volume; here 6, 6, 5, 6, 6, 5). Both ways run in the same process on the same loaded model,
interleaved, several times (the machine is shared): ``serial`` is what the adapter did before
(``batch_questions: false``: the shared prefix prefilled once, then each question generated
alone, the image processor run for every question); ``batched`` is the default.

Decode speed is measured by difference, so that prefill and image processing (the same work
both ways) drop out: each way runs with ``--new-tokens`` and with 1 new token, and
decode tokens/s = (new tokens at N - new tokens at 1) / (wall at N - wall at 1), each wall the
fastest of ``--repeats``. Every answer, serial and batched, is compared (its text tokenized
again) with the answer to each whole prompt generated alone, with no shared prefix, as before
any sharing; in bfloat16 the share of agreeing tokens is printed. The weights are redrawn
(seeded, std 0.5) so that the greedy tokens depend on the question and the image, which makes
"identical" mean something.

torch runs on one thread by default (``--threads``): the model is so small that a step is
Python and dispatch overhead, and on this shared two-core machine a second thread mostly waits
for cores other jobs hold (steps then take 10x longer, in both ways, at random).

    python benchmarks/inference_batch.py [--volumes 6] [--slices 32] [--new-tokens 32]
                                         [--repeats 3] [--threads 1]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

QUESTIONS = [
    "Is the nodule in the right or the left lung?",
    "Which lobe contains the largest nodule?",
    "Is the pleural effusion bilateral?",
    "Is the consolidation in the upper or the lower zone?",
    "Is the enlarged lymph node anterior or posterior to the trachea?",
    "Does the mass extend across the midline?",
]
PER_VOLUME = (6, 6, 5)  # 5.67 questions per volume, the full split's mean


class _TimedImageProcessor:
    """The real image processor, its calls counted and timed."""

    def __init__(self, inner):
        self._inner, self.calls, self.seconds = inner, 0, 0.0

    def __getattr__(self, name):
        return getattr(self._inner, name)

    def __call__(self, *args, **kwargs):
        started = time.perf_counter()
        try:
            return self._inner(*args, **kwargs)
        finally:
            self.calls += 1
            self.seconds += time.perf_counter() - started


def _run(adapter, volumes, questions, batched: bool, new_tokens: int, share: bool = True):
    """(wall seconds, image-processor seconds and calls, answers by qa_id) of one pass."""
    adapter._config["batch_questions"] = batched
    adapter._config["share_prefix"] = share
    adapter._generation["max_new_tokens"] = new_tokens
    timed = _TimedImageProcessor(adapter.processor.image_processor)
    adapter.processor.image_processor = timed
    try:
        started = time.perf_counter()
        answers = {a.qa_id: a for image, qs in zip(volumes, questions)
                   for a in adapter.answer_volume(image, qs)}
        wall = time.perf_counter() - started
    finally:
        adapter.processor.image_processor = timed._inner
    return wall, timed.seconds, timed.calls, answers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--volumes", type=int, default=6)
    parser.add_argument("--slices", type=int, default=32, help="Lingshu's slice budget")
    parser.add_argument("--new-tokens", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    parser.add_argument("--dtype", default="float32", choices=["float32", "bfloat16"])
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
    torch.set_num_threads(args.threads)

    counts = [PER_VOLUME[i % 3] for i in range(args.volumes)]
    rng = np.random.default_rng(0)
    volumes = [rng.integers(0, 256, (args.slices, 16, 16, 3), dtype=np.uint8) for _ in counts]
    questions = [[Question(f"v{v}::{q}", QUESTIONS[q]) for q in range(n)]
                 for v, n in enumerate(counts)]
    n = sum(counts)
    print(f"{args.volumes} volumes x {args.slices} slices, {n} questions "
          f"({n / len(counts):.2f} per volume), up to {args.new_tokens} new tokens each, "
          f"{args.repeats} interleaved repeats, {torch.get_num_threads()} torch threads")
    with tempfile.TemporaryDirectory() as folder:
        build_tiny_qwen2_5_vl(Path(folder))
        adapter = Lingshu()
        adapter.load({"model_path": folder, "device": "cpu", "dtype": args.dtype,
                      "generation": {"max_new_tokens": args.new_tokens}})
        torch.manual_seed(1)
        with torch.no_grad():
            for parameter in adapter.model.parameters():
                parameter.normal_(0, 0.5)
        # the reference: each whole prompt generated alone, as before any sharing (untimed)
        alone = _run(adapter, volumes, questions, False, args.new_tokens, share=False)[3]
        runs: dict[tuple[bool, int], list] = {}
        for _ in range(args.repeats):  # interleaved: the machine's load drifts
            for tokens in (args.new_tokens, 1):
                for batched in (False, True):
                    runs.setdefault((batched, tokens), []).append(
                        _run(adapter, volumes, questions, batched, tokens))
    best = {key: min(value, key=lambda run: run[0]) for key, value in runs.items()}
    answers = {key: [run[3] for run in value] for key, value in runs.items()}
    tokenize = adapter.processor.tokenizer
    reference = {k: tokenize(a.text)["input_ids"] for k, a in alone.items()}
    checked = answers[(True, args.new_tokens)] + answers[(False, args.new_tokens)]
    same = sum(x == y for run in checked for k, a in run.items()
               for x, y in zip(tokenize(a.text)["input_ids"], reference[k]))
    total = sum(max(len(tokenize(a.text)["input_ids"]), len(reference[k]))
                for run in checked for k, a in run.items())
    identical = all({k: tokenize(a.text)["input_ids"] for k, a in run.items()} == reference
                    for run in checked)

    def decode_rate(batched: bool) -> float:
        long, short = best[(batched, args.new_tokens)], best[(batched, 1)]
        tokens = sum(a.new_tokens for a in long[3].values()) - sum(
            a.new_tokens for a in short[3].values())
        return tokens / (long[0] - short[0])

    serial, batched = decode_rate(False), decode_rate(True)
    distinct = len({a.text for a in alone.values()})
    print(f"answers: {distinct} distinct of {n}, "
          f"{sum(a.new_tokens for a in answers[(True, args.new_tokens)][0].values()) / n:.1f} "
          "new tokens each on average")
    print(f"decode: serial {serial:.0f} tokens/s, batched {batched:.0f} tokens/s, "
          f"{batched / serial:.2f}x; answers identical ({args.dtype}): "
          f"{'yes' if identical else 'NO'}"
          + ("" if identical else f" ({same / total:.1%} of answer tokens agree)"))
    before, after = best[(False, args.new_tokens)], best[(True, args.new_tokens)]
    print(f"per question: wall {before[0] / n * 1000:.1f} ms before, {after[0] / n * 1000:.1f} ms "
          f"after ({before[0] / after[0]:.2f}x); image processor {before[1] / n * 1000:.1f} ms "
          f"before ({before[2]} calls), {after[1] / n * 1000:.1f} ms after ({after[2]} calls)")


if __name__ == "__main__":
    main()
