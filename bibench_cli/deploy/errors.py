"""Errors of the deployment track; one line each, so a CLI can print them as they are."""

from __future__ import annotations

from bibench_cli.errors import BibenchError


class DeployError(BibenchError, ValueError):
    """A model whose eval forward cannot be expressed as a deploy form (or exported)."""


class MissingDependencyError(BibenchError):
    """An optional deployment library is not installed."""
