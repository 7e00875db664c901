"""Errors the data layer raises; each message is one line a user can act on."""

from __future__ import annotations


class DatasetNotFoundError(FileNotFoundError):
    """A dataset is missing or incomplete: says where we looked, what we expected, how to get it."""


class CorruptDatasetError(ValueError):
    """A dataset file exists but cannot be read (bad pickle, truncated archive, wrong checksum)."""


class UnknownTaskError(ValueError):
    """A task name that is not registered."""
