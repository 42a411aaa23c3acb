"""Preprocessing speed: decode-once preprocessing against the gzip floor and the MONAI chain.

Makes CT-RATE-sized synthetic volumes (512x512x300 int16 ``.nii.gz``, a body with lungs, bone and
noise so they compress like CT) and gives each the full split's number of questions per volume
(9,077 questions / 1,601 volumes = 5.67). In one run it measures, per volume:

- the floor: inflating the same file (igzip from ``isal`` where installed, and zlib), timed back
  to back with ours on each volume, best of ``--repeats``;
- ours: the preprocessing pipeline run by Kedro's runner (the node decodes and transforms, the
  catalog's ``ModelInputsDataset`` writes) making the spec the MONAI chain makes (and, apart, all
  the specs of ``conf/base/parameters_preprocessing.yml`` from one decode);
- the MONAI chain as upstream ran it, once per question: LoadImage, Orientation,
  ScaleIntensityRange, Resize.

Goals: ours <= 1.5x the floor per volume; >= 5x faster than the per-question chain over the split.

    python benchmarks/preprocessing_speed.py                # 4 volumes of 512x512x300 (~4 min)
    python benchmarks/preprocessing_speed.py --quick        # 3 volumes of 256x256x120
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("TQDM_DISABLE", "1")  # no progress bars (tqdm reads it on import)
ROOT = Path(__file__).resolve().parents[1]
QUESTIONS_PER_VOLUME = 9077 / 1601
CHAIN_SPEC = {"orientation": "LPS", "window": [-1000, 1000], "shape": [32, 256, 256],
              "axis_order": "zyx", "output": "npy"}


def make_volume(path: Path, shape: tuple[int, int, int], seed: int) -> None:
    """A chest-like int16 phantom: air, a body ellipse, two lungs, a spine, CT-like noise."""
    import nibabel as nib

    rng = np.random.default_rng(seed)
    nx, ny, nz = shape
    x, y = np.meshgrid(np.linspace(-1, 1, nx), np.linspace(-1, 1, ny), indexing="ij")
    plane = np.full((nx, ny), -1000, dtype=np.int16)
    plane[(x / 0.85) ** 2 + (y / 0.6) ** 2 < 1] = 40
    for side in (-0.4, 0.4):
        plane[((x - side) / 0.3) ** 2 + (y / 0.4) ** 2 < 1] = -850
    plane[(x ** 2 + (y - 0.45) ** 2) < 0.01] = 700
    volume = np.repeat(plane[:, :, None], nz, axis=2)
    volume += rng.normal(0, 12, size=volume.shape).astype(np.int16)
    affine = np.diag([-0.75, -0.75, 1.5, 1.0])  # LPS storage, as CT-RATE's volumes
    nib.save(nib.Nifti1Image(volume, affine), str(path))


def question_counts(n_volumes: int) -> list[int]:
    """Questions per volume summing to the split's ratio (5.67 on average)."""
    total = round(n_volumes * QUESTIONS_PER_VOLUME)
    counts = [total // n_volumes] * n_volumes
    for i in range(total - sum(counts)):
        counts[i] += 1
    return counts


def timed(func, *args) -> float:
    started = time.perf_counter()
    func(*args)
    return time.perf_counter() - started


def monai_chain():
    from monai import transforms as mt

    xyz = [CHAIN_SPEC["shape"][CHAIN_SPEC["axis_order"].index(a)] for a in "xyz"]
    return mt.Compose([
        mt.LoadImage(image_only=True, ensure_channel_first=True),
        mt.Orientation(axcodes=CHAIN_SPEC["orientation"]),
        mt.ScaleIntensityRange(*CHAIN_SPEC["window"], 0.0, 1.0, clip=True),
        mt.Resize(spatial_size=xyz, mode="trilinear"),
    ])


def ours(paths: list[Path], specs: dict, out: Path, workers: int) -> float:
    """Seconds to run the preprocessing pipeline over ``paths`` as ``kedro run`` does: Kedro's
    runner, the node decoding and transforming, the catalog's datasets writing under ``out``."""
    from kedro.io import DataCatalog
    from kedro.runner import SequentialRunner

    from ct_spatial_bench.pipelines.preprocessing import create_pipeline

    for logger in ("", "kedro"):  # Kedro logs each load and save, and a rich console is slow
        logging.getLogger(logger).setLevel(logging.WARNING)
    config = {
        "raw_volumes": {"type": "partitions.PartitionedDataset", "path": str(paths[0].parent),
                        "dataset": "ct_spatial_bench.datasets.NiftiDataset",
                        "filename_suffix": ".nii.gz"},
        "preprocessing_manifest": {"type": "ct_spatial_bench.datasets.JsonLinesDataset",
                                   "filepath": str(out / "manifest.jsonl")},
    }
    for name, spec in specs.items():
        npy = spec.get("output") == "npy"
        config[f"model_inputs_{name}"] = {
            "type": "ct_spatial_bench.datasets.ModelInputsDataset", "path": str(out / name),
            "dataset": f"ct_spatial_bench.datasets.{'NpyDataset' if npy else 'NiftiDataset'}",
            "filename_suffix": ".npy" if npy else ".nii.gz"}
    config["existing_model_inputs"] = {  # what each spec already holds: every spec in one
        "type": "ct_spatial_bench.datasets.AllModelInputsDataset",
        "specs": {name: config[f"model_inputs_{name}"] for name in specs}}
    catalog = DataCatalog.from_config(config)
    catalog["benchmark_qa"] = [{"qa_id": f"{p.name}::0", "image_path": p.name} for p in paths]
    catalog["params:preprocessing"] = {"workers": workers, "specs": specs}
    started = time.perf_counter()
    SequentialRunner().run(create_pipeline(tuple(specs)), catalog)
    elapsed = time.perf_counter() - started
    rows = catalog.load("preprocessing_manifest")
    bad = [r for r in rows if r["status"] != "ok"]
    if bad:
        sys.exit(f"preprocessing failed: {bad[0]['error']}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--volumes", type=int, default=4)
    parser.add_argument("--shape", type=int, nargs=3, default=(512, 512, 300))
    parser.add_argument("--quick", action="store_true", help="3 volumes of 256x256x120")
    parser.add_argument("--workers", type=int, default=2, help="processes for the parallel run")
    parser.add_argument("--folder", type=Path, default=None, help="keep the volumes here")
    parser.add_argument("--repeats", type=int, default=3, help="best of N for floor and ours")
    args = parser.parse_args()
    if args.quick:
        args.volumes, args.shape = 3, (256, 256, 120)

    import torch
    import yaml

    from ct_spatial_bench.imaging.decode import decompress_file, gzip_backend

    folder = args.folder or Path(tempfile.mkdtemp(prefix="ct_speed_"))
    folder.mkdir(parents=True, exist_ok=True)
    shape = tuple(args.shape)
    paths = []
    for index in range(args.volumes):
        path = folder / f"synthetic_{'x'.join(map(str, shape))}_{index}.nii.gz"
        if not path.is_file():
            make_volume(path, shape, index)
        paths.append(path)
    counts = question_counts(len(paths))
    size_mb = statistics.mean(p.stat().st_size for p in paths) / 1e6
    print(f"{len(paths)} volumes {shape} int16, {size_mb:.0f} MB compressed on average; "
          f"{sum(counts)} questions ({sum(counts) / len(paths):.2f} per volume); "
          f"gzip backend {gzip_backend()}; torch threads {torch.get_num_threads()}")

    # The floor and ours are timed back to back per volume, best of --repeats, so a busy machine
    # (other processes on the same cores) skews both alike.
    backends = ["zlib"] + (["isal"] if gzip_backend() == "isal" else [])
    floor = {b: [] for b in backends}
    ours_best = []
    with tempfile.TemporaryDirectory() as scratch:
        for index, path in enumerate(paths):
            for backend in backends:
                floor[backend].append(min(timed(decompress_file, path, backend)
                                          for _ in range(args.repeats)))
            ours_best.append(min(
                ours([path], {"chain": CHAIN_SPEC}, Path(scratch) / f"{index}-{r}", workers=1)
                for r in range(args.repeats)))
    floor = {b: statistics.mean(times) for b, times in floor.items()}
    best_floor = min(floor.values())

    chain = monai_chain()
    monai_per_volume = []  # every question decodes and transforms its volume, as upstream did
    for path, count in zip(paths, counts):
        monai_per_volume.append([timed(chain, str(path)) for _ in range(count)])
    monai_split = sum(sum(times) for times in monai_per_volume)
    monai_one = statistics.mean(t for times in monai_per_volume for t in times)

    all_specs = yaml.safe_load((ROOT / "conf/base/parameters_preprocessing.yml").read_text())
    all_specs = all_specs["preprocessing"]["specs"]
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch)
        ours_chain = ours(paths, {"chain": CHAIN_SPEC}, out / "one", workers=1)
        ours_all = ours(paths, all_specs, out / "all", workers=1)
        ours_parallel = ours(paths, {"chain": CHAIN_SPEC}, out / "par", workers=args.workers)
        rerun = ours(paths, {"chain": CHAIN_SPEC}, out / "par", workers=args.workers)

    n = len(paths)
    per = {name: seconds / n for name, seconds in (("ours", ours_chain), ("all", ours_all),
                                                    ("parallel", ours_parallel))}
    best = statistics.mean(ours_best)
    print("\nseconds per volume (one process unless stated)")
    for backend, seconds in floor.items():
        print(f"  gzip floor ({backend:>4})                 {seconds:7.3f}")
    print(f"  ours, the chain's spec (best of {args.repeats})     {best:7.3f}   "
          f"{best / best_floor:.2f}x the floor (goal <= 1.5x)")
    print(f"  ours, the chain's spec (one pass)      {per['ours']:7.3f}   "
          f"{per['ours'] / best_floor:.2f}x the floor")
    print(f"  ours, all {len(all_specs)} specs from one decode      {per['all']:7.3f}   "
          f"{per['all'] / best_floor:.2f}x the floor")
    print(f"  ours, {args.workers} processes (wall / volume)     {per['parallel']:7.3f}")
    print(f"  ours, rerun (all outputs exist)        {rerun / n:7.3f}")
    print(f"  MONAI chain, one question              {monai_one:7.3f}")
    print(f"\nover the split's shape ({sum(counts)} questions on {n} volumes)")
    print(f"  MONAI chain per question: {monai_split:8.2f} s")
    print(f"  ours, decode once:        {ours_chain:8.2f} s   "
          f"{monai_split / ours_chain:.1f}x faster (goal >= 5x)")


if __name__ == "__main__":
    main()
