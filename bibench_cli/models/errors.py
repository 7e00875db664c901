"""Errors the model registry raises; one line each, so a CLI can print them as they are."""

from __future__ import annotations

from bibench_cli.errors import BibenchError


class IncompatibleError(BibenchError, ValueError):
    """An architecture cannot take a task's input (wrong kind, size or channel count)."""


class UnknownArchitectureError(BibenchError, ValueError):
    """An architecture name that is not registered."""
