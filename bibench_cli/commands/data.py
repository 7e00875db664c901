"""``bibench data demo --task NAME --root DIR``: write a task's tiny synthetic demo dataset in
the task's own published on-disk format, so every task can be tried offline."""

from __future__ import annotations

import argparse
from pathlib import Path

from bibench_cli.errors import BibenchError


def main(argv: list[str]) -> int:
    from bibench_cli.tasks import get_task, list_tasks

    parser = argparse.ArgumentParser(
        prog="bibench data",
        description="Dataset helpers. `demo` writes a tiny, learnable, clearly synthetic "
        "dataset in a task's own published layout (no download).",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", help="write a task's demo dataset")
    demo.add_argument("--task", required=True, help=f"a task, or all ({', '.join(list_tasks())})")
    demo.add_argument("--root", type=Path, required=True, help="data root to write into")
    demo.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    names = list_tasks() if args.task == "all" else [args.task]
    specs = [get_task(name) for name in names]
    for spec in specs:
        if spec.demo is None:
            raise BibenchError(f"task {spec.name!r} has no demo data")
    for spec in specs:
        print(f"{spec.name}: {spec.demo(args.root, args.seed)}")
    print(f"train on it offline: bibench train task=<task> data.root={args.root}")
    return 0
