"""``bibench`` command line: parse the subcommand name only; the rest goes to its owner unchanged.

Heavy imports (torch, Lightning, Hydra, pandas) happen inside the subcommand that needs them,
so ``bibench --help`` and ``bibench list`` answer instantly.
"""

from __future__ import annotations

import sys

USAGE = """\
usage: bibench <command> [arguments]

Benchmark network binarization algorithms (after BiBench, ICML 2023).

commands:
  train [overrides]       one Lightning run composed by Hydra (algo=bnn arch=resnet18 ...)
  sweep [overrides]       a grid of runs (Hydra multirun): algo=bnn,xnor seed=0,1 or experiment=NAME
  list                    algorithms, architectures, tasks, optimizers and schedulers
  report [PATH ...]       roll run records into the paper's per-track tables (see report --help)
  complexity [overrides]  parameters, FLOPs, r_c and r_s per layer, e.g. algo=all arch=resnet18
  robustness PATH ...     add corruption accuracies (CIFAR-10-C) to finished runs

Hydra options pass through: `bibench train --help`, `--cfg job`, `--info`, `hydra.run.dir=...`.
"""


def _list(argv: list[str]) -> int:
    from bibench_cli.listing import render

    print(render())
    return 0


def _train(argv: list[str]) -> int:
    from bibench_cli.engine.hydra_app import run

    return run("bibench train", argv)


def _sweep(argv: list[str]) -> int:
    from bibench_cli.engine.hydra_app import run_sweep

    return run_sweep(argv)


def _robustness(argv: list[str]) -> int:
    from bibench_cli.engine.robustness_runs import main as robustness_main

    return robustness_main(argv)


def _complexity(argv: list[str]) -> int:
    from bibench_cli.complexity_cli import main as complexity_main

    return complexity_main(argv)


def _report(argv: list[str]) -> int:
    from bibench_cli.report.cli import main as report_main

    return report_main(argv)


COMMANDS = {
    "train": _train,
    "sweep": _sweep,
    "report": _report,
    "complexity": _complexity,
    "robustness": _robustness,
    "list": _list,
}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(USAGE, end="")
        return 0
    if argv[0] == "--version":
        from bibench_cli import __version__

        print(f"bibench {__version__}")
        return 0
    command = COMMANDS.get(argv[0])
    if command is None:
        print(
            f"bibench: unknown command {argv[0]!r}; available: {', '.join(COMMANDS)}",
            file=sys.stderr,
        )
        return 2
    from bibench_cli.errors import BibenchError

    try:
        return command(argv[1:])
    except BibenchError as exc:
        print(f"bibench {argv[0]}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
