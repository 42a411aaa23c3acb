"""Judges of a prediction against the reference answer: the rule judge, the offline judge
(``offline/``), LLM judges and their jury; ``planning`` (join, pending tasks, cost), ``engine``
(orchestration: the configured run, each judge on its path), ``loop`` (per item: a call, a
verdict row)."""
