"""What int8 and int4 cost and save on this machine, against full precision in the same run.

A random-weight Llama-shaped causal LM (no download; its layers are as wide as a small real
model's) is saved once, then loaded at each precision through the project's loading code
(``models.quantization``: the backend ``auto`` picks, the same ``from_pretrained`` keywords the
adapters pass, quanto's layers made usable under ``inference_mode``) and asked the same prompts
greedily. Per precision: load time, parameter memory as stored, the process's peak resident
memory since the load began (CUDA: the allocator's peak), and seconds per prompt; ratios are
against the full-precision row of the same run. Each precision runs in its own subprocess, so
one's memory never counts in another's peak.

    python benchmarks/quantization_cpu.py     # hidden 768, 6 layers, 6 prompts (13 min on a busy 2-core box)
    python benchmarks/quantization_cpu.py --hidden 1024 --layers 8 --prompts 8
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def build(folder: Path, hidden: int, layers: int, vocab: int) -> None:
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    config = LlamaConfig(vocab_size=vocab, hidden_size=hidden, intermediate_size=hidden * 11 // 4,
                         num_hidden_layers=layers, num_attention_heads=hidden // 64,
                         num_key_value_heads=hidden // 64, max_position_embeddings=2048)
    torch.manual_seed(0)
    LlamaForCausalLM(config).save_pretrained(folder)


def measure(folder: str, precision: str, prompts: int, new_tokens: int, device: str) -> dict:
    """One precision, in this process: load, then answer ``prompts`` prompts greedily."""
    sys.path.insert(0, str(ROOT / "src"))
    import torch
    from transformers import AutoModelForCausalLM

    from ct_spatial_bench.models.common import dtype_keyword, torch_dtype
    from ct_spatial_bench.models.quantization import (
        parameter_bytes, peak_memory, plan_quantization, pretrained_keywords, reset_peak_memory,
        usable_under_inference_mode,
    )

    plan = plan_quantization(None if precision == "full" else precision, device, None, "bench")
    dtype = torch_dtype(plan.compute_dtype, device)
    reset_peak_memory(device)
    started = time.perf_counter()
    model = AutoModelForCausalLM.from_pretrained(
        folder, **dtype_keyword(dtype), **pretrained_keywords(plan, device, dtype))
    if plan.backend != "bitsandbytes":
        model = model.to(device)
    if plan.backend == "quanto":
        usable_under_inference_mode([model])
    model.eval()
    load_s = time.perf_counter() - started
    generator = torch.Generator().manual_seed(1)
    inputs = torch.randint(3, model.config.vocab_size, (prompts, 48), generator=generator)
    outputs, started = [], time.perf_counter()
    with torch.inference_mode():
        for row in inputs:
            out = model.generate(input_ids=row[None].to(device), max_new_tokens=new_tokens,
                                 min_new_tokens=new_tokens, do_sample=False)
            outputs.append(out[0, 48:].tolist())
    per_prompt = (time.perf_counter() - started) / prompts
    peak, source = peak_memory(device)
    return {"precision": precision, "backend": plan.backend or "-", "load_s": round(load_s, 2),
            "parameter_memory_mib": round(parameter_bytes([model]) / 2**20, 1),
            "peak_memory_mib": peak, "peak_source": source, "s_per_prompt": round(per_prompt, 3),
            "tokens": outputs}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hidden", type=int, default=768)
    parser.add_argument("--layers", type=int, default=6)
    parser.add_argument("--vocab", type=int, default=8000)
    parser.add_argument("--prompts", type=int, default=6)
    parser.add_argument("--new-tokens", type=int, default=16)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--precisions", default="full,int8,int4")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)  # folder, precision
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.child[0], args.child[1], args.prompts, args.new_tokens,
                                 args.device)))
        return
    with tempfile.TemporaryDirectory() as folder:
        build(Path(folder), args.hidden, args.layers, args.vocab)
        rows = []
        for precision in args.precisions.split(","):
            done = subprocess.run(
                [sys.executable, __file__, "--child", folder, precision, "--prompts",
                 str(args.prompts), "--new-tokens", str(args.new_tokens), "--device", args.device],
                capture_output=True, text=True, check=True)
            rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
    full = rows[0]
    print(f"random Llama: hidden {args.hidden}, {args.layers} layers, vocab {args.vocab}; "
          f"{args.prompts} prompts of 48 tokens, {args.new_tokens} new tokens, {args.device}")
    print(f"{'precision':9} {'backend':8} {'load s':>7} {'params MiB':>10} {'x full':>7} "
          f"{'peak MiB':>9} {'s/prompt':>9} {'x full':>7} {'same tokens':>11}")
    for row in rows:
        same = sum(a == b for a, b in zip(row["tokens"], full["tokens"]))
        print(f"{row['precision']:9} {row['backend']:8} {row['load_s']:7.2f} "
              f"{row['parameter_memory_mib']:10.1f} "
              f"{row['parameter_memory_mib'] / full['parameter_memory_mib']:7.2f} "
              f"{row['peak_memory_mib']:9.1f} {row['s_per_prompt']:9.3f} "
              f"{row['s_per_prompt'] / full['s_per_prompt']:7.2f} "
              f"{same:>5}/{len(full['tokens'])}")


if __name__ == "__main__":
    main()
