"""The two ways a run stops on purpose, which the CLI reports in one paragraph, no traceback.

``ConfigurationError``: an expected mistake in the configuration or the inputs (a missing file,
a parameter pointing nowhere, a model without its checkpoint); the message says what to fix.
``PlannedStop``: the run did what was asked and stopped early (``judging.dry_run``); exit 0.
Anything else is a bug and keeps its traceback. ``--verbose`` or CSB_TRACEBACK=1 brings the
traceback back for these two as well.
"""

from __future__ import annotations


class ConfigurationError(Exception):
    """An expected configuration or input mistake; the message names what to fix."""


class PlannedStop(Exception):
    """A run that stops early by request (a dry run), after printing what it was asked for."""
