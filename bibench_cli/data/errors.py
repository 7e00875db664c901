"""Errors the data layer raises; each message is one line a user can act on."""

from __future__ import annotations

from bibench_cli.errors import BibenchError


class DatasetNotFoundError(BibenchError, FileNotFoundError):
    """A dataset is missing or incomplete: says where we looked, what we expected, how to get it."""


class CorruptDatasetError(BibenchError, ValueError):
    """A dataset file exists but cannot be read (bad pickle, truncated archive, wrong checksum)."""


class DataOptionError(BibenchError, ValueError):
    """A data option out of range for the dataset found (e.g. more validation images held
    out than there are training images)."""
