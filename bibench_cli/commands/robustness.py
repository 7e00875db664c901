"""``bibench robustness PATH...``: add corruption accuracies to already-finished runs.

Goes on past a broken run (one line each, exit 1 at the end); a path with no run records is
bad input (one line, exit 2).
"""

from __future__ import annotations

import argparse
import logging
import sys

from bibench_cli.errors import BibenchError
from bibench_cli.runs.finder import find_records
from bibench_cli.runs.record import read_record


def main(argv: list[str]) -> int:
    from bibench_cli.engine.robustness import SOURCES, add_corruptions

    parser = argparse.ArgumentParser(
        prog="bibench robustness",
        description="Evaluate finished runs on the 19 corruptions x 5 severities (CIFAR-10-C).",
    )
    parser.add_argument("paths", nargs="+", help="run directories, result.json files or roots")
    parser.add_argument("--source", choices=SOURCES, default="auto")
    parser.add_argument("--data-root", help="dataset root, if not the one the run used")
    parser.add_argument("--seed", type=int, default=0, help="seed of generated corruptions")
    parser.add_argument("--force", action="store_true", help="re-evaluate evaluated runs")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")

    records, missing = find_records(args.paths)
    if missing:
        raise BibenchError(
            f"{missing[0]} does not exist; give run directories or result.json files"
        )
    if not records:
        raise BibenchError(f"no run records under {', '.join(args.paths)}")
    failures = 0
    for path in records:
        try:
            record = read_record(path)
        except (OSError, ValueError) as exc:
            failures += 1
            print(f"failed {path}: {exc}", file=sys.stderr)
            continue
        if record.status != "completed" or (record.corruption and not args.force):
            reason = "already evaluated" if record.corruption else f"status {record.status}"
            print(f"skipped {path.parent}: {reason}", file=sys.stderr)
            continue
        try:
            add_corruptions(
                path.parent, source=args.source, data_root=args.data_root, seed=args.seed
            )
        except (BibenchError, OSError, RuntimeError, ValueError) as exc:
            failures += 1
            print(f"failed {path.parent}: {str(exc).strip().splitlines()[0]}", file=sys.stderr)
            continue
        print(f"evaluated {path.parent}")
    return 1 if failures else 0
