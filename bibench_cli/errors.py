"""User-facing errors: bad input that the CLI reports as one line, never a traceback."""


class BibenchError(Exception):
    """A one-line, actionable message about bad input (unknown name, bad combination, ...)."""
