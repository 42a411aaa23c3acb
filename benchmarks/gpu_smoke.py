"""The first GPU run: each model whose weights are on this machine answers the sanity split's
questions, and prints what a full run will cost and whether prefix sharing changes answers.

Per model: answers per second (prefix shared, the default), prefill and decode tokens per second
(prefill timed by a pass of one new token per answer; decode is the rest of the shared pass),
peak GPU memory beside the memory plan's estimate (models/memory_plan.py), how many answers
stopped at max_new_tokens (possibly cut; where the adapter can tell), and the agreement of
shared-prefix and per-question decoding (identical answers, and the share of answer tokens that
agree position by position). Without a GPU, or without any model's weights, it says which and
exits 0.

    python benchmarks/gpu_smoke.py [--models m3d,lingshu] [--set lingshu.model_path=/w/Lingshu-7B]
        [--qa data/03_primary/benchmark_qa.jsonl] [--volumes data/01_raw/sanity/volumes]

Settings come from conf/base/parameters_inference.yml, then conf/local's, then ``--set``.
``--device cpu`` runs without a GPU (the tests do, on tiny models).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
NEURAL = ("m3d", "med3dvlm", "radfm", "merlin", "ct_chat", "vila_m3", "medgemma", "lingshu",
          "hulu_med")


def model_settings(conf: Path, overrides: list[str]) -> dict[str, dict[str, Any]]:
    """``<model>: {inference: ..., resources: ...}`` from base then local, then ``--set`` pairs
    ``<model>.<config key>=<value>`` into that model's ``inference.config``."""
    import yaml

    settings: dict[str, dict[str, Any]] = {}
    for env in ("base", "local"):
        path = conf / env / "parameters_inference.yml"
        if path.is_file():
            for name, block in (yaml.safe_load(path.read_text()) or {}).items():
                if isinstance(block, dict) and "inference" in block:
                    settings.setdefault(name, {}).update(block)
    for pair in overrides:
        key, _, value = pair.partition("=")
        model, _, setting = key.partition(".")
        inference = settings.setdefault(model, {}).setdefault("inference", {"model": model})
        inference.setdefault("config", {})
        inference["config"] = {**(inference["config"] or {}), setting: value}
    return settings


def unavailable(name: str, block: dict[str, Any]) -> str | None:
    """Why a model cannot run here (None: it can)."""
    from ct_spatial_bench.models.readiness import checkpoint_problems
    from ct_spatial_bench.models.registry import adapter_class

    inference = block.get("inference") or {}
    config = inference.get("config") or {}
    adapter_cls = adapter_class(inference.get("model", name))
    missing = [key for key in adapter_cls.required_config if not config.get(key)]
    if missing:
        return f"no weights: {', '.join(missing)} not set"
    problems = checkpoint_problems(name, adapter_cls, config)
    if problems:
        return "no weights: " + "; ".join(problems)
    if adapter_cls.memory_sources(config) is None:
        return (f"no weights on this machine (the files {adapter_cls.__name__}.memory_sources "
                "reads: its checkpoint, a local or cached folder)")
    return None


def questions_by_volume(qa: Path, prefix: str = "") -> dict[str, list[Any]]:
    from ct_spatial_bench.models.base import Question
    from ct_spatial_bench.records import volume_key

    grouped: dict[str, list[Any]] = {}
    for number, line in enumerate(qa.read_text().splitlines()):
        if line.strip():
            row = json.loads(line)
            qa_id = row.get("qa_id") or f"{row.get('case_id', 'q')}::{number}"
            grouped.setdefault(volume_key(row["image_path"], prefix), []).append(
                Question(qa_id, row["question"]))
    return grouped


def token_agreement(tokenizer: Any, first: list[str], second: list[str]) -> float:
    """Share of answer token positions (over the longer of each pair) holding the same token."""
    same = total = 0
    for a, b in zip(first, second):
        ta, tb = (tokenizer(t, add_special_tokens=False)["input_ids"] if tokenizer else t.split()
                  for t in (a, b))
        same += sum(x == y for x, y in zip(ta, tb))
        total += max(len(ta), len(tb), 1)
    return same / total if total else 1.0


def timed_pass(adapter: Any, inputs: dict[str, Any], grouped: dict[str, list[Any]]) -> tuple:
    answers, start = [], time.perf_counter()
    for key, questions in grouped.items():
        answers += list(adapter.answer_volume(inputs[key], questions))
    return answers, time.perf_counter() - start


def smoke_model(name: str, block: dict[str, Any], grouped: dict[str, list[Any]],
                volumes: Path, device: str) -> str:
    import nibabel as nib
    import torch

    from ct_spatial_bench.imaging.specs import InputSpec, apply_spec
    from ct_spatial_bench.models.memory_plan import GIB, plan_for
    from ct_spatial_bench.models.registry import MODEL_REGISTRY, create_adapter

    import yaml

    inference = block["inference"]
    model = inference.get("model", name)
    specs = yaml.safe_load((ROOT / "conf/base/parameters_preprocessing.yml").read_text())
    spec_name = MODEL_REGISTRY[model].input_spec
    spec = InputSpec.from_params(spec_name, specs["preprocessing"]["specs"][spec_name])
    inputs = {key: apply_spec(nib.load(volumes / f"{key}.nii.gz"), spec) for key in grouped}
    config = {**(inference.get("config") or {}), "device": device}
    if device.startswith("cuda"):
        torch.cuda.reset_peak_memory_stats()
    adapter = create_adapter(model)
    adapter.load(config)
    shared, shared_s = timed_pass(adapter, inputs, grouped)
    peak = torch.cuda.max_memory_allocated() / GIB if device.startswith("cuda") else None
    # the benchmark switches settings the adapter read at load: one new token per answer, prefix
    # still shared, for the prefill time (adapters whose decoding is fixed skip it); then
    # per-question decoding with the full budget again
    generation = dict(getattr(adapter, "_generation", {}))
    prefill_s = None
    if "max_new_tokens" in generation and model != "radfm":
        adapter._generation = {**generation, "max_new_tokens": 1}
        _, prefill_s = timed_pass(adapter, inputs, grouped)
        adapter._generation = generation
    adapter._config = {**adapter._config, "share_prefix": False}
    alone, _ = timed_pass(adapter, inputs, grouped)
    adapter.close()

    n = len(shared)
    prefill = sum(a.prefill_tokens or 0 for a in shared)
    new = sum(a.new_tokens or 0 for a in shared)
    tokenizer = getattr(adapter, "tokenizer", None) or getattr(
        getattr(adapter, "processor", None), "tokenizer", None)
    texts = [a.text for a in shared], [a.text for a in alone]
    identical = sum(a == b for a, b in zip(*texts))
    plan = plan_for(name, type(adapter), block, spec)
    rates = [f"{n / shared_s:.2f} answers/s"]
    if prefill_s and prefill:
        rates.append(f"prefill {prefill / prefill_s:,.0f} tok/s")
        rates.append(f"decode {new / max(shared_s - prefill_s, 1e-9):,.1f} tok/s" if new
                     else "decode n/a (no token counts)")
    else:
        rates.append("prefill/decode n/a (token counts or decoding settings not exposed)")
    estimate = f"estimate {plan.total_gib:.1f} GiB" if plan else "no estimate"
    memory = (f"peak {peak:.1f} GiB ({estimate})" if peak is not None
              else f"peak n/a on {device} ({estimate})")
    known = [a.hit_token_limit for a in shared if a.hit_token_limit is not None]
    cut = f"cut at max_new_tokens: {sum(known)}/{len(known)}" if known else \
        "cut at max_new_tokens: n/a (not exposed)"
    return (f"{name}: {n} answers on {len(grouped)} volumes | {' | '.join(rates)} | {memory} | "
            f"{cut} | shared vs per-question: {identical}/{n} identical, "
            f"{token_agreement(tokenizer, *texts):.1%} tokens agree")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default=",".join(NEURAL))
    parser.add_argument("--set", action="append", default=[], metavar="MODEL.KEY=VALUE")
    parser.add_argument("--conf", type=Path, default=ROOT / "conf")
    parser.add_argument("--qa", type=Path, default=ROOT / "data/03_primary/benchmark_qa.jsonl")
    parser.add_argument("--volumes", type=Path, default=ROOT / "data/01_raw/sanity/volumes")
    parser.add_argument("--device", default=None, help="default: cuda when there is one")
    args = parser.parse_args(argv)

    import torch

    device = args.device or ("cuda" if torch.cuda.is_available() else None)
    if device is None:
        print("gpu_smoke: no GPU on this machine (torch.cuda.is_available() is False); "
              "nothing measured. Run it where a GPU and the weights are.")
        return 0
    settings = model_settings(args.conf, args.set)
    ready = {}
    for name in [m.strip() for m in args.models.split(",") if m.strip()]:
        why = unavailable(name, settings.get(name, {"inference": {"model": name}}))
        if why:
            print(f"{name}: skipped, {why}")
        else:
            ready[name] = settings[name]
    if not ready:
        print("gpu_smoke: no model has its weights here; nothing measured.")
        return 0
    if not args.qa.is_file():
        print(f"gpu_smoke: no sanity questions at {args.qa}: run `kedro run` once first.")
        return 0
    grouped = questions_by_volume(args.qa)
    for name, block in ready.items():
        print(smoke_model(name, block, grouped, args.volumes, device), flush=True)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT / "src"))
    sys.exit(main())
