"""The loop of the commands that add to finished runs (robustness, export, infer).

Goes on past a broken run (one line each, exit status 1 at the end); a path that does not
exist, or that holds no run record, is bad input (one line, exit status 2).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from bibench_cli.errors import BibenchError
from bibench_cli.runs.finder import find_records
from bibench_cli.runs.record import RunRecord, read_record

RUN_ERRORS = (BibenchError, OSError, RuntimeError, ValueError)  # one run's failure, one line


def first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def for_each_run(
    paths: Sequence[str],
    act: Callable[[Path, RunRecord], None],
    skip: Callable[[RunRecord], str | None],
) -> int:
    """Call ``act(run_dir, record)`` for each run record below ``paths`` unless ``skip``
    gives a reason; returns the exit status (1 when a run failed)."""
    records, missing = find_records(paths)
    if missing:
        raise BibenchError(
            f"{missing[0]} does not exist; give run directories or result.json files"
        )
    if not records:
        raise BibenchError(f"no run records under {', '.join(paths)}")
    failures = 0
    for path in records:
        try:
            record = read_record(path)
        except (OSError, ValueError) as exc:
            failures += 1
            print(f"failed {path}: {exc}", file=sys.stderr)
            continue
        reason = skip(record)
        if reason:
            print(f"skipped {path.parent}: {reason}", file=sys.stderr)
            continue
        try:
            act(path.parent, record)
        except RUN_ERRORS as exc:
            failures += 1
            print(f"failed {path.parent}: {first_line(exc)}", file=sys.stderr)
    return 1 if failures else 0
