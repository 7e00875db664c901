"""``bibench`` command line: parse the subcommand name only; the rest goes to its owner unchanged.

Heavy imports (torch, Lightning, Hydra, pandas) happen inside the subcommand that needs them,
so ``bibench --help`` and ``bibench list`` answer instantly.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Callable

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
  export PATH ... [--format onnx|openvino] [--out DIR]
                          finished runs in deploy form (±1 weights), checked against the model
  infer PATH ... [--backend openvino] [--threads 1,2,4] [--batch 1]
                          time deployed binarized vs FP32 models with real binary kernels
  data demo --task NAME --root DIR
                          write a task's tiny synthetic demo dataset in its published layout

Hydra options pass through: `bibench train --help`, `--cfg job`, `--info`, `hydra.run.dir=...`.
"""


def _list(argv: list[str]) -> int:
    from bibench_cli.commands.listing import render

    print(render())
    return 0


def _train(argv: list[str]) -> int:
    from bibench_cli.commands.hydra_app import run

    return run("bibench train", argv)


def _sweep(argv: list[str]) -> int:
    from bibench_cli.commands.hydra_app import run_sweep

    return run_sweep(argv)


def _handler(module: str) -> Callable[[list[str]], int]:
    """The ``main(argv)`` of ``bibench_cli.commands.<module>``, imported when called."""

    def call(argv: list[str]) -> int:
        return importlib.import_module(f"bibench_cli.commands.{module}").main(argv)

    return call


COMMANDS: dict[str, Callable[[list[str]], int]] = {
    "train": _train,
    "sweep": _sweep,
    "report": _handler("report"),
    "complexity": _handler("complexity"),
    "robustness": _handler("robustness"),
    "export": _handler("export"),
    "infer": _handler("infer"),
    "data": _handler("data"),
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
    except BrokenPipeError:  # ``bibench list | head``: the reader left; say nothing more
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # Python's exit flush must not fail again
        return 0


if __name__ == "__main__":
    sys.exit(main())
