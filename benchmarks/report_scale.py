"""How long does ``bibench report`` take over 10,000 run records? (target: < 3 s)

Writes synthetic records (accuracy, corruption, sensitivity and complexity runs, each with a
realistic resolved config) to a temporary directory, then times ``main`` in-process and the
real ``bibench report`` in a subprocess (``python -c`` when the console script is missing).

    python benchmarks/report_scale.py [--records 10000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import itertools
import json
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bibench_cli.commands.report import main
from bibench_cli.runs.record import RESULT_FILE, RunRecord

ALGOS = ("fp32", "bnn", "xnor", "dorefa", "bireal", "xnorpp", "reactnet", "recu", "fda")
CELLS = [("cifar10", "resnet18", ""), ("cifar10", "resnet20", ""), ("imagenet", "resnet18", ""),
         ("cifar10", "vggsmall", ""), ("imagenet", "resnet34", "")]  # fmt: skip
NOISES = ("gaussian_noise", "shot_noise", "motion_blur", "fog", "jpeg_compression")
CORRUPTIONS = [f"{name}/{level}" for name, level in itertools.product(NOISES, range(1, 6))]


def synthetic_record(index: int, rng: random.Random) -> RunRecord:
    """One plausible completed (sometimes failed) run; every 10th is a sensitivity run."""
    algo = ALGOS[index % len(ALGOS)]
    task, arch, subtask = CELLS[(index // len(ALGOS)) % len(CELLS)]
    base = 92.0 if algo == "fp32" else 60.0 + 3 * ALGOS.index(algo)
    record = RunRecord(
        experiment="sensitivity" if index % 10 == 0 else "default",
        algo=algo, arch=arch, task=task, subtask=subtask, family="cnn",
        optimizer=rng.choice(("adam", "sgd")), lr=rng.choice((1e-4, 1e-3, 1e-2)),
        scheduler=rng.choice(("cosine", "step")), seed=index, epochs=200,
        status="failed" if index % 97 == 0 else "completed",
        primary_metric="test/acc", primary=base + rng.gauss(0, 1),
        metrics={"test/acc": base, "test/loss": 0.5, "val/acc": base},
        train_time_s=3600 * (1.0 if algo == "fp32" else 1.5) * rng.uniform(0.9, 1.1),
        r_c=None if algo == "fp32" else 13.2, r_s=None if algo == "fp32" else 12.3,
        config={"algo": {"name": algo}, "arch": {"name": arch, "family": "cnn"},
                "task": {"name": task, "epochs": 200, "batch_size": 128},
                "optim": {"name": "adam", "lr": 1e-3}, "trainer": {"max_epochs": 200},
                "recipe": {"lr": 1e-3, "optimizer": "adam", "scheduler": "cosine"}},
        versions={"torch": "2.4.0", "lightning": "2.4.0", "bibench": "0.1.0"},
    )  # fmt: skip
    if index % 20 == 1 and task == "cifar10":
        clean = record.primary
        results = {key: clean - rng.uniform(5, 30) for key in CORRUPTIONS}
        record.corruption = {"source": "cifar10-c", "clean": clean, "results": results}
    return record


def generate(root: Path, count: int) -> None:
    rng = random.Random(0)
    for index in range(count):
        run_dir = root / f"run{index:05d}"
        run_dir.mkdir(parents=True)
        (run_dir / RESULT_FILE).write_text(json.dumps(synthetic_record(index, rng).to_dict()))


def time_in_process(root: Path) -> float:
    start = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        code = main([str(root)])
    assert code == 0, code
    return time.perf_counter() - start


def time_subprocess(root: Path) -> tuple[str, float]:
    script = shutil.which("bibench")
    code = (
        f"import sys; from bibench_cli.commands.report import main; sys.exit(main([{str(root)!r}]))"
    )
    command = [script, "report", str(root)] if script else [sys.executable, "-c", code]
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True)
    return ("bibench report" if script else "python -c main(...)"), time.perf_counter() - start


def run(count: int, repeat: int) -> None:
    with tempfile.TemporaryDirectory(prefix="bibench-report-scale-") as tmp:
        root = Path(tmp)
        start = time.perf_counter()
        generate(root, count)
        print(f"generated {count} records in {time.perf_counter() - start:.1f} s")
        times = [time_in_process(root) for _ in range(repeat)]
        print("main() in-process: " + ", ".join(f"{t:.2f} s" for t in times))
        runs = [time_subprocess(root) for _ in range(repeat)]
        label = runs[0][0]
        print(f"{label} subprocess (incl. interpreter start): "
              + ", ".join(f"{t:.2f} s" for _, t in runs))  # fmt: skip


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    run(args.records, args.repeat)
