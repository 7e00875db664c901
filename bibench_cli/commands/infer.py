"""``bibench infer RUN... --backend openvino``: real binary inference of finished runs.

Times each run's deploy form, its binarized convolutions running as xnor-popcount
BinaryConvolution kernels (checked in the runtime graph), against its FP32 counterpart:
medians of repeated runs after warm-up, both interleaved in one process, at fixed thread
counts; measures both sizes (binary weights packed at 1 bit). Recorded in each run's
``result.json`` (``inference["<library>/<cpu>/<threads>"]``), which ``bibench report`` reads
into the Hardware Inference track.

Goes on past a run it cannot measure (one line each, exit 1 at the end); a path with no run
records is bad input (one line, exit 2).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from bibench_cli.commands.finished import for_each_run
from bibench_cli.deploy.extra import BACKENDS, require_for
from bibench_cli.errors import BibenchError
from bibench_cli.runs.record import RunRecord


def thread_counts(text: str) -> list[int]:
    """``1,2,4`` as thread counts; one line for anything else."""
    try:
        counts = [int(part) for part in text.split(",")]
    except ValueError:
        counts = []
    if not counts or min(counts) < 1:
        raise BibenchError(f"--threads takes positive integers separated by commas, got {text!r}")
    return list(dict.fromkeys(counts))


def describe(key: str, entry: dict[str, Any]) -> str:
    """One measurement in one line: kernels, latency, size, parity, verdict."""
    parity = entry["parity"]
    line = (
        f"  {key}: {entry['binary_kernels']} BinaryConvolution kernels in the runtime graph "
        f"(of {entry['binary_layers']} binarized layers); FP32 {entry['t_fp32_s'] * 1e3:.3f} ms, "
        f"binarized {entry['t_bi_s'] * 1e3:.3f} ms: {entry['speedup']:.2f}x; "
        f"FP32 {entry['s_fp32_mb']:.3f} MB"
    )
    if entry["compression"] is not None:
        line += f", deployed {entry['s_bi_mb']:.3f} MB: {entry['compression']:.2f}x smaller"
    line += (
        f"; vs the trained model: max diff {parity['max_abs_diff']:.1e}, top-1 agreement "
        f"{parity['top1_agreement']:.1%} ({parity['inputs']} test inputs)"
    )
    if not entry["deployable"]:
        line += (
            f"; for correctness only, not deployable (BiBench Table 4: {entry['rule']}), "
            "left out of the report's means"
        )
    return line


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="bibench infer",
        description="Time finished runs' deployed binarized models against their FP32 "
        "counterparts with real binary kernels, and measure their storage.",
    )
    parser.add_argument("paths", nargs="+", help="run directories, result.json files or roots")
    parser.add_argument("--backend", choices=BACKENDS, default="openvino")
    parser.add_argument("--threads", default="1", help="thread counts, e.g. 1,2,4 (default 1)")
    parser.add_argument("--batch", type=int, default=1, help="images per inference (default 1)")
    parser.add_argument("--repeats", type=int, default=50, help="timed runs per model")
    parser.add_argument("--warmup", type=int, default=5, help="untimed runs per model first")
    parser.add_argument("--data-root", help="dataset root, if not the one the run used")
    parser.add_argument("--samples", type=int, default=64, help="test inputs for parity")
    parser.add_argument("--force", action="store_true", help="measure measured runs again")
    args = parser.parse_args(argv)
    threads = thread_counts(args.threads)
    if min(args.batch, args.repeats, args.samples) < 1 or args.warmup < 0:
        raise BibenchError("--batch, --repeats, --samples must be >= 1 and --warmup >= 0")
    require_for(args.backend)
    from bibench_cli.deploy.openvino_runtime import device_name
    from bibench_cli.engine.deployment import infer_run, inference_key

    keys = [inference_key(device_name(), count) for count in threads]

    def skip(record: RunRecord) -> str | None:
        if record.status != "completed":
            return f"status {record.status}"
        if record.algo == "fp32":
            return "an FP32 run: nothing binarized to deploy"
        measured = all(key in record.inference for key in keys) and not args.force
        return f"already measured ({', '.join(keys)}; --force measures again)" if measured else None

    def infer(run_dir: Path, record: RunRecord) -> None:
        entries = infer_run(
            run_dir,
            threads=threads,
            batch=args.batch,
            repeats=args.repeats,
            warmup=args.warmup,
            data_root=args.data_root,
            samples=args.samples,
        )
        first = next(iter(entries.values()))
        lines = [f"measured {run_dir} (FP32 counterpart: {first['fp32_weights']})"]
        print("\n".join([*lines, *(describe(key, entry) for key, entry in entries.items())]))

    return for_each_run(args.paths, infer, skip)
