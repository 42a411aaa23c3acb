"""How long AlignScore takes per scored prediction on this machine, at the released models' sizes.

No weights are downloaded: a random RoBERTa with AlignScore-base's (or -large's) shape is saved in
the released checkpoint's layout, with a byte-level tokenizer trained here, and loaded through
``metrics.alignscore`` as a real checkpoint would be. The compute per pair is the real model's
(the vocabulary is smaller, which changes only the embedding lookup). Pairs are sanity-split
sized (a one-sentence reference, a one- or two-sentence prediction); the figure reported is
seconds per scored prediction and the share of the metrics stage it would add to the sanity
split's predictions (``--items``).

    python benchmarks/alignscore_speed.py               # base shape, 64 items
    python benchmarks/alignscore_speed.py --large --items 32
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

SIDES = ("left", "right")
ORGANS = ("upper lobe", "lower lobe", "hilum", "pleura", "adrenal gland", "kidney")


def texts(n: int, seed: int = 0) -> tuple[list[str], list[str]]:
    rng = random.Random(seed)
    refs, preds = [], []
    for _ in range(n):
        side, organ = rng.choice(SIDES), rng.choice(ORGANS)
        refs.append(f"The nodule is in the {side} {organ}.")
        claim = f"A small nodule is seen in the {rng.choice(SIDES)} {organ}."
        if rng.random() < 0.5:
            claim += f" There is no effusion on the {rng.choice(SIDES)} side."
        preds.append(claim)
    return refs, preds


def save_checkpoint(folder: Path, large: bool, corpus: list[str]) -> Path:
    import torch
    from tokenizers import pre_tokenizers
    from transformers import RobertaConfig, RobertaModel, RobertaTokenizer

    tokenizer = RobertaTokenizer().train_new_from_iterator(
        corpus, vocab_size=500, initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tokenizer.model_max_length = 512
    hidden, layers = (1024, 24) if large else (768, 12)
    config = RobertaConfig(vocab_size=len(tokenizer), hidden_size=hidden,
                           num_hidden_layers=layers, num_attention_heads=hidden // 64,
                           intermediate_size=4 * hidden, max_position_embeddings=514,
                           pad_token_id=tokenizer.pad_token_id)
    torch.manual_seed(0)
    state = {f"base_model.{k}": v for k, v in RobertaModel(config).state_dict().items()}
    for name, width in (("tri_layer", 3), ("bin_layer", 2), ("reg_layer", 1)):
        head = torch.nn.Linear(hidden, width)
        state.update({f"{name}.{k}": v for k, v in head.state_dict().items()})
    torch.save({"state_dict": state}, folder / "alignscore.ckpt")
    config.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder / "alignscore.ckpt"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--large", action="store_true", help="AlignScore-large's shape")
    parser.add_argument("--items", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=32)
    args = parser.parse_args()

    import torch

    from ct_spatial_bench.metrics.alignscore import load_alignscore

    refs, preds = texts(args.items)
    with tempfile.TemporaryDirectory() as folder:
        checkpoint = save_checkpoint(Path(folder), args.large, refs + preds)
        started = time.perf_counter()
        scorer = load_alignscore(checkpoint, batch_size=args.batch_size)
        load_s = time.perf_counter() - started
        scorer.score(refs[:2], preds[:2])  # warm-up
        started = time.perf_counter()
        scores = scorer.score(refs, preds)
        elapsed = time.perf_counter() - started
        n_params = sum(p.numel() for p in scorer.encoder.parameters())
    n_pairs = sum(1 + p.count(". ") for p in preds)
    shape = "large (1024 x 24)" if args.large else "base (768 x 12)"
    print(f"AlignScore-{shape}, {n_params / 1e6:.0f}M encoder parameters (random), "
          f"{torch.get_num_threads()} torch threads, batch {args.batch_size}")
    print(f"load {load_s:.1f} s; {args.items} predictions ({n_pairs} chunk-sentence pairs) in "
          f"{elapsed:.2f} s: {elapsed / args.items * 1000:.1f} ms per prediction, "
          f"{elapsed / n_pairs * 1000:.1f} ms per pair; scores in [{min(scores):.3f}, "
          f"{max(scores):.3f}]")


if __name__ == "__main__":
    main()
