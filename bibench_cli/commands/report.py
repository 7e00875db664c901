"""``bibench report [PATH ...]``: the paper's Tables 2-3 from run records and results CSVs.

Each experiment is reported on its own (``--experiment NAME`` picks one); debug runs are left
out unless ``--include-debug``; which runs a cell pools and what it is compared with is
``bibench_cli.tracks.cells``'s rule, and footnotes say what was left out.

Import-light on purpose (pandas and rich, never torch or Lightning): reporting must work on a
laptop that only holds the ``result.json`` files. matplotlib loads only with ``--plots``.
"""

from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path

from rich.console import Console

from bibench_cli.report.collect import Collection, collect
from bibench_cli.report.tables import (
    print_terminal,
    to_csv,
    to_json,
    to_latex,
    to_markdown,
    track_table,
)
from bibench_cli.tracks import TrackResult, all_tracks, usable

EXTENSIONS = {"terminal": "txt", "markdown": "md", "csv": "csv", "latex": "tex", "json": "json"}
PLOTS_DIR = "bibench-report"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bibench report",
        description="Roll run records (result.json) and external-results CSVs into the "
        "BiBench track tables (paper Tables 2-3) with the overall metrics of section 3.",
    )
    parser.add_argument(
        "paths", nargs="*", default=["outputs"], metavar="PATH",
        help="directories searched recursively for result.json and results CSVs, or files "
        "(default: outputs)",
    )  # fmt: skip
    parser.add_argument(
        "--format", choices=list(EXTENSIONS), default="terminal", help="default: terminal"
    )
    parser.add_argument(
        "--out", type=Path, metavar="DIR",
        help="write report.<ext> (and the plots) to DIR instead of printing",
    )  # fmt: skip
    parser.add_argument(
        "--plots", action="store_true",
        help=f"write PNG figures to --out DIR (default: {PLOTS_DIR}/)",
    )  # fmt: skip
    parser.add_argument("--std", action="store_true", help="show ± seed std in accuracy tables")
    parser.add_argument("--count", action="store_true", help="show how many runs each cell pooled")
    parser.add_argument("--experiment", metavar="NAME", help="report this experiment only")
    parser.add_argument(
        "--include-debug", action="store_true",
        help="also pool runs that saw part of their data (limit_*_batches, e.g. trainer=debug)",
    )  # fmt: skip
    return parser


def render(tracks: list[TrackResult], collection: Collection, args: argparse.Namespace) -> str:
    """The report in ``args.format`` as text (terminal: rich's plain-text export, for files)."""
    tables = [track_table(track, args.std, args.count) for track in tracks]
    if args.format == "terminal":
        console = Console(file=io.StringIO(), width=200, color_system=None)
        print_terminal(tables, console)
        console.print(collection.summary())
        return console.file.getvalue()
    if args.format == "json":
        return to_json(tracks, summary_dict(collection))
    if args.format == "csv":
        return to_csv(tracks)
    return (to_markdown if args.format == "markdown" else to_latex)(tables)


def summary_dict(collection: Collection) -> dict[str, object]:
    return {
        "line": collection.summary(),
        "statuses": dict(collection.statuses),
        "csv_files": collection.csv_files,
        "skipped": [vars(skip) for skip in collection.skipped],
    }


def main(argv: list[str]) -> int:
    """Run ``bibench report``; 0 when at least one table was produced, 1 when none, 2 on usage."""
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    collection = collect(args.paths)
    for skip in collection.skipped:
        print(f"warning: {skip}", file=sys.stderr)
    tracks = all_tracks(collection.frame, args.experiment, args.include_debug)
    if args.out is None and args.format == "terminal":
        console = Console()
        console.width = max(console.width, 120)  # a piped table keeps its algorithm names
        print_terminal([track_table(t, args.std, args.count) for t in tracks], console)
        console.print(collection.summary(), highlight=False)
    else:
        text = render(tracks, collection, args)
        if args.out is None:
            sys.stdout.write(text)
        else:
            args.out.mkdir(parents=True, exist_ok=True)
            (args.out / f"report.{EXTENSIONS[args.format]}").write_text(text)
        print(collection.summary(), file=sys.stderr)
    if args.plots:
        from bibench_cli.report.plots import write_plots

        frame = usable(collection.frame, args.include_debug)
        for path in write_plots(frame, tracks, args.out or Path(PLOTS_DIR)):
            print(f"wrote {path}", file=sys.stderr)
    if not tracks:
        hint = "" if args.include_debug else " (debug runs need --include-debug)"
        print(f"bibench report: no completed runs to report{hint}", file=sys.stderr)
    return 0 if tracks else 1
