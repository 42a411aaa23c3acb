"""Judges of a prediction against the reference answer: the rule judge, the offline judge
(``offline/``), LLM judges and their jury; ``planning`` (join, pending tasks, cost), ``loop`` (per
call), ``runner`` (the configured run)."""
