"""``bibench robustness PATH...``: add corruption accuracies to already-finished runs.

Goes on past a broken run (one line each, exit 1 at the end); a path with no run records is
bad input (one line, exit 2).
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from bibench_cli.commands.finished import for_each_run
from bibench_cli.runs.record import RunRecord


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

    def skip(record: RunRecord) -> str | None:
        if record.status != "completed":
            return f"status {record.status}"
        return "already evaluated" if record.corruption and not args.force else None

    def evaluate(run_dir: Path, record: RunRecord) -> None:
        add_corruptions(run_dir, source=args.source, data_root=args.data_root, seed=args.seed)
        print(f"evaluated {run_dir}")

    return for_each_run(args.paths, evaluate, skip)
