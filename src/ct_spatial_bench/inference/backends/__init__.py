"""Where a model's questions are answered: this process (``local``), a Dask cluster
(``dask_cluster``), or the model's own interpreter (``worker`` and ``worker_process``)."""
