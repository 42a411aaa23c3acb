"""Running a model over the benchmark's questions: ``settings`` (a model's ``inference``
parameters), ``engine`` (orchestration: adapter, shard, checkpoint, backend, failure policy),
``loop`` (per volume: load once, ask, checkpoint each answer), ``sharding``, ``checkpoint``,
``blind_control`` and ``backends`` (where the loop runs). No Kedro here."""
