"""Peak memory of the shared-prefix prefill: logits for every prefix token vs. the last only.

MedGemma's prefix (85 slices of 256 image tokens, ~22.5k tokens) meets a 262,144-token
vocabulary: logits for every prefix token are ~12 GB in bfloat16, and nothing reads any but the
last. Here a tiny random Gemma 3 (tests/models/tiny_vlm_folders.py) gets MedGemma's vocabulary
size (its embeddings resized to 262,144 rows) and MedGemma's 85 slices (4 image tokens each
instead of 256), and the MedGemma adapter's prefix prefill runs once keeping every token's
logits (as before) and once keeping the last token's (``logits_to_keep=1``). Each runs in a
fresh process, on CPU in float32; the figure is the rise of the process's peak resident memory
(``ru_maxrss``) over its resident memory just before the prefill.

    python benchmarks/prefix_logits_memory.py [--slices 85] [--vocab 262144]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))


def _resident_mib() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _child(keep_last: bool, slices: int, vocab: int) -> dict:
    import resource

    import numpy as np
    import torch
    from support.tiny_vlm_folders import build_tiny_gemma3

    import ct_spatial_bench.models.prefix_cache as prefix_cache
    from ct_spatial_bench.models.adapters.medgemma import MedGemma

    if not keep_last:  # as before: the forward computes logits for every prefix token
        prefix_cache._last_logits_only = lambda model: {}
    with tempfile.TemporaryDirectory() as folder:
        build_tiny_gemma3(Path(folder))
        adapter = MedGemma()
        adapter.load({"model_path": folder, "device": "cpu", "dtype": "float32"})
    adapter.model.resize_token_embeddings(vocab)
    images = adapter.images_of(np.random.default_rng(0).integers(
        0, 256, (slices, 16, 16, 3), dtype=np.uint8))
    encoded = [adapter.encode(adapter.messages(q, images)) for q in ("which side?", "upper?")]
    ids = [e["input_ids"][0].tolist() for e in encoded]
    shared = prefix_cache.shared_prefix_length(ids, {adapter.processor.image_token_id})
    torch.set_num_threads(1)
    before = _resident_mib()
    prefix_cache.prefill(adapter.model, encoded[0], shared)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    return {"prefix_tokens": shared, "vocab": vocab, "rise_mib": peak - before,
            "logits_mib": shared * vocab * 4 / 2**20}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slices", type=int, default=85)
    parser.add_argument("--vocab", type=int, default=262144)
    parser.add_argument("--child", choices=["all", "last"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(_child(args.child == "last", args.slices, args.vocab)))
        return
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        p for p in (str(ROOT / "src"), os.environ.get("PYTHONPATH")) if p)}
    figures = {}
    for mode in ("all", "last"):
        out = subprocess.run([sys.executable, __file__, "--child", mode, "--slices",
                              str(args.slices), "--vocab", str(args.vocab)], env=env,
                             capture_output=True, text=True, check=True).stdout
        figures[mode] = json.loads(out.strip().splitlines()[-1])
    every, last = figures["all"], figures["last"]
    print(f"prefix of {every['prefix_tokens']} tokens, vocabulary {every['vocab']}: logits of "
          f"every prefix token are {every['logits_mib']:.0f} MiB in float32")
    print(f"peak memory rise during the prefix prefill: {every['rise_mib']:.0f} MiB with every "
          f"token's logits, {last['rise_mib']:.0f} MiB with the last token's "
          f"({every['rise_mib'] - last['rise_mib']:.0f} MiB less)")


if __name__ == "__main__":
    main()
