"""Running a model over the benchmark's questions: ``settings`` (a model's ``inference``
parameters), ``engine`` (orchestration: adapter, inputs' freshness, shard, checkpoint, backend,
failure policy), ``loop`` (per volume: load once, ask, checkpoint each answer), ``checkpoint``,
``blind_control`` and ``backends`` (where the loop runs). No Kedro here."""
