"""``bibench export RUN...``: finished runs in their deploy form, checked against the trained
model on real test inputs: ONNX (standard ops, onnxruntime), optionally OpenVINO IR, and the
binary weights packed at 1 bit. Recorded in each run's ``result.json`` (``deploy``).

Goes on past a run it cannot export (one line each, exit 1 at the end); a path with no run
records is bad input (one line, exit 2).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from bibench_cli.commands.finished import for_each_run
from bibench_cli.deploy.extra import FORMATS, require_for
from bibench_cli.errors import BibenchError
from bibench_cli.runs.record import RunRecord


def describe(entry: dict[str, Any]) -> list[str]:
    """What an export entry says, as indented lines: verdict, files, parity."""
    if entry["deployable"]:
        verdict = f"deployable on {', '.join(entry['libraries'])}"
    else:
        verdict = f"for correctness only, not deployable (BiBench Table 4): {entry['rule']}"
    kernels = entry.get("binary_kernels")
    checks = [
        f"{where} max diff {p['max_abs_diff']:.1e}, top-1 agreement {p['top1_agreement']:.1%}"
        + (f" ({kernels} BinaryConvolution kernels)" if where == "openvino" else "")
        for where, p in entry["parity"].items()
    ]
    inputs = next(iter(entry["parity"].values()))["inputs"]
    return [
        f"  {verdict}",
        *(f"  wrote {path}" for path in entry["files"]),
        f"  vs the trained model on {inputs} test inputs: " + "; ".join(checks),
    ]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="bibench export",
        description="Export finished runs in their deploy form (±1 weights, scales folded "
        "into BatchNorm), checked against the trained model on real test inputs.",
    )
    parser.add_argument("paths", nargs="+", help="run directories, result.json files or roots")
    parser.add_argument(
        "--format", choices=FORMATS, default="onnx",
        help="onnx: standard ONNX (daBNN, ARM tool chains); openvino: also OpenVINO IR",
    )  # fmt: skip
    parser.add_argument("--out", type=Path, help="output folder (default: RUN_DIR/deploy)")
    parser.add_argument("--data-root", help="dataset root, if not the one the run used")
    parser.add_argument("--samples", type=int, default=64, help="test inputs for parity")
    args = parser.parse_args(argv)
    if args.samples < 1:
        raise BibenchError(f"--samples must be at least 1, got {args.samples}")
    require_for(args.format)
    from bibench_cli.engine.deployment import export_run

    def skip(record: RunRecord) -> str | None:
        if record.status != "completed":
            return f"status {record.status}"
        return "an FP32 run: nothing binarized to deploy" if record.algo == "fp32" else None

    def export(run_dir: Path, record: RunRecord) -> None:
        entry = export_run(
            run_dir, fmt=args.format, out=args.out, data_root=args.data_root, samples=args.samples
        )
        print("\n".join([f"exported {run_dir}", *describe(entry)]))

    return for_each_run(args.paths, export, skip)
