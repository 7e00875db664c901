"""Errors the model registry raises; one line each, so a CLI can print them as they are."""

from __future__ import annotations


class IncompatibleError(ValueError):
    """An architecture cannot take a task's input (wrong kind, size or channel count)."""


class UnknownArchitectureError(ValueError):
    """An architecture name that is not registered."""
