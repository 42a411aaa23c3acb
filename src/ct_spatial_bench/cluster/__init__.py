"""Running the benchmark on a cluster: SLURM job scripts and their dependency chain."""
