"""``bibench data demo --task NAME --root DIR``: write a task's tiny synthetic demo dataset in
the task's own published on-disk format, so every task can be tried offline."""

from __future__ import annotations

import argparse
from pathlib import Path

from bibench_cli.errors import BibenchError

DEMO_MARKER = ".bibench-demo"  # a data root holding demo data only, safe to write again


def check_demo_root(root: Path) -> None:
    """Refuse a data root that holds anything but demo data: demos are written under the
    official file names and would overwrite a real dataset."""
    if root.is_dir() and any(root.iterdir()) and not (root / DEMO_MARKER).exists():
        raise BibenchError(
            f"--root {root} is not empty and holds no bibench demo ({DEMO_MARKER}): demo data "
            "is written under the datasets' official file names and would overwrite real "
            "data; give an empty or new folder"
        )


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
    demo.add_argument(
        "--root", type=Path, required=True, help="an empty or new folder (or an earlier demo's)"
    )
    demo.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    names = list_tasks() if args.task == "all" else [args.task]
    specs = [get_task(name) for name in names]
    for spec in specs:
        if spec.demo is None:
            raise BibenchError(f"task {spec.name!r} has no demo data")
    check_demo_root(args.root)
    args.root.mkdir(parents=True, exist_ok=True)
    (args.root / DEMO_MARKER).write_text("written by `bibench data demo`\n")
    for spec in specs:
        print(f"{spec.name}: {spec.demo(args.root, args.seed)}")
    print(f"train on it offline: bibench train task=<task> data.root={args.root}")
    return 0
