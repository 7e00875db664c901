"""User-facing errors: bad input that the CLI reports as one line, never a traceback."""

from __future__ import annotations

from collections.abc import Sequence


class BibenchError(Exception):
    """A one-line, actionable message about bad input (unknown name, bad combination, ...)."""


def item_list(items: Sequence[str], limit: int = 4) -> str:
    """A short human list for one-line messages: the first few items, then how many more."""
    items = sorted(items)
    shown = ", ".join(items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")
