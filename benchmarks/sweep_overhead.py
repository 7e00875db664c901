"""Per-job overhead of ``bibench sweep``: what the orchestrator costs beyond the jobs' training.

Runs a grid of 8 tiny FP32 jobs (digits, 1 epoch of 2 batches) through the real command, once
with Hydra's basic launcher and once with joblib (2 workers), each in a fresh outputs folder,
and prints, per launcher: wall time of the whole command, the jobs' own fit times (from their
records), and the overhead per job = (wall - sum(fit) / workers) / jobs. Interpreter start-up
and imports are part of the overhead, as a user pays them. Target: < 2 s per job.

    python benchmarks/sweep_overhead.py [--jobs 8]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

LAUNCHERS = {
    "basic": ([], 1),
    "joblib": (["hydra/launcher=joblib", "hydra.launcher.n_jobs=2"], 2),
}


def run_grid(jobs: int, launcher_args: list[str], outputs: Path) -> tuple[float, float]:
    seeds = ",".join(str(seed) for seed in range(jobs))
    command = [
        sys.executable, "-m", "bibench_cli.cli", "sweep", "algo=fp32", f"seed={seeds}",
        "trainer=debug", "task.batch_size=16", f"paths.outputs={outputs}", *launcher_args,
    ]  # fmt: skip
    started = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, cwd=outputs)
    wall = time.perf_counter() - started
    fits = [json.loads(p.read_text())["train_time_s"] for p in outputs.rglob("result.json")]
    assert len(fits) == jobs, f"expected {jobs} records, found {len(fits)}"
    return wall, sum(fits)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=8)
    args = parser.parse_args()
    print(f"{'launcher':<8} {'jobs':>4} {'wall s':>8} {'sum fit s':>10} {'overhead s/job':>15}")
    for name, (launcher_args, workers) in LAUNCHERS.items():
        with tempfile.TemporaryDirectory() as folder:
            wall, fit = run_grid(args.jobs, launcher_args, Path(folder))
        overhead = (wall - fit / workers) / args.jobs
        print(f"{name:<8} {args.jobs:>4} {wall:>8.1f} {fit:>10.1f} {overhead:>15.2f}")


if __name__ == "__main__":
    main()
