"""CPU time of the sanity split's generation stages: the 10 phantoms, the blind prior's 20 and
the mask prior's 5 unseen phantoms, and the mask questions.

    python benchmarks/sanity_generation.py [--baseline /path/to/another/checkout]

Each checkout is timed in its own interpreter (``src/`` of that checkout first on the path), one
after the other in this run, so a ratio compares like with like on a shared machine. Prints
process CPU seconds per stage and the total; with ``--baseline``, the ratio to it.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

_TIMED = r"""
import json, sys, time
sys.path.insert(0, sys.argv[1])
from ct_spatial_bench.synthetic import generate_sanity_split
from ct_spatial_bench.synthetic.split import generate_prior_questions
from ct_spatial_bench.mask_qa.tables import load_label_table
from ct_spatial_bench.mask_qa.track import maps_by_volume, phantom_prior_questions, split_questions
SEED, clock, out = 20261122, time.process_time, {}
start = clock(); split = generate_sanity_split(n_cases=10, seed=SEED)
out["split (10 phantoms)"] = clock() - start
start = clock(); generate_prior_questions(20, 10, seed=SEED)
out["blind prior (20)"] = clock() - start
table = load_label_table("phantom")
start = clock(); phantom_prior_questions(5, 10, table, {}, seed=SEED)
out["mask prior (5)"] = clock() - start
loaders = {key: (lambda image=image: image) for key, image in split.label_maps.items()}
volumes = [{"case_id": f"{k}.nii.gz", "image_path": f"{k}.nii.gz", "key": k} for k in split.volumes]
start = clock(); items, _ = split_questions(volumes, maps_by_volume(loaders), table, {})
out["mask questions"] = clock() - start
out["kept"] = len(items)
print(json.dumps(out))
"""


def timed(checkout: Path) -> dict:
    done = subprocess.run([sys.executable, "-c", _TIMED, str(checkout / "src")],
                          capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--baseline", type=Path, help="another checkout to time in this run")
    args = parser.parse_args()
    runs = {"this checkout": timed(ROOT)}
    if args.baseline:
        runs["baseline"] = timed(args.baseline)
    for name, result in runs.items():
        kept = result.pop("kept")
        stages = ", ".join(f"{k} {v:.1f} s" for k, v in result.items())
        print(f"{name}: {stages}; total {sum(result.values()):.1f} s CPU; "
              f"{kept} mask questions kept")
    if args.baseline:
        ratio = (sum(runs["this checkout"].values()) / sum(runs["baseline"].values()))
        print(f"ratio to the baseline: {ratio:.2f}")


if __name__ == "__main__":
    main()
