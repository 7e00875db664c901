"""What the tests share: one torch thread, the algorithm lists, tiny run settings, records on
disk, composing configs and running the ``bibench`` command as a user would.

Subprocess, kill and packaging tests are marked ``slow`` (``pytest -m "not slow"`` skips them).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import torch

from bibench_cli.binarize import list_algorithms, unregister_algorithm
from bibench_cli.compose import compose_config
from bibench_cli.runs.record import RunRecord, write_record

torch.set_num_threads(1)  # 2 shared cores run 10x slower with torch's default

# The paper's eight binarization algorithms, in its column order.
BINARIZED = ["bnn", "xnor", "dorefa", "bireal", "xnorpp", "reactnet", "recu", "fda"]
# A run on a few batches: enough to exercise every stage, seconds on the embedded digits.
TINY = ("trainer.max_epochs=1", "trainer.limit_train_batches=3", "trainer.limit_val_batches=2",
        "trainer.limit_test_batches=2", "trainer.log_every_n_steps=1")  # fmt: skip
BIBENCH = [sys.executable, "-m", "bibench_cli.cli"]
# Faster R-CNN's arch.params at test size: 64-96 px images, few proposals and sampled RoIs
# (stage 4 runs per RoI), about a second per CPU step
TINY_FASTER_RCNN = {
    "min_size": 64,
    "max_size": 96,
    "rpn_pre_nms_top_n_train": 200,
    "rpn_post_nms_top_n_train": 50,
    "rpn_pre_nms_top_n_test": 100,
    "rpn_post_nms_top_n_test": 20,
    "box_batch_size_per_image": 16,
}
QUICK = ["trainer=debug", "task.batch_size=16"]  # a command-line run in seconds


def tiny_cfg(outputs: Path, *overrides: str):
    """A composed run config writing below ``outputs``, on a few batches."""
    return compose_config(f"paths.outputs={outputs}", *TINY, *overrides)


def write_runs(root: Path, runs: list[dict]) -> Path:
    """One record per dict (fields of RunRecord; completed unless given), each in its own
    run directory below ``root``."""
    for index, fields in enumerate(runs):
        write_record(RunRecord(**{"status": "completed", **fields}), root / f"run{index}")
    return root


def bibench(*args: str, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    """Run ``bibench ARGS`` in a subprocess and capture what it prints."""
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    return subprocess.run(
        [*BIBENCH, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )


def wait_for(condition: Callable[[], bool], timeout: float = 240, what: str = "") -> None:
    """Poll ``condition`` until it holds (instead of sleeping a guessed time)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"waited {timeout:g} s for {what or condition}")
        time.sleep(0.05)


@pytest.fixture(autouse=True)
def _algorithm_registry():
    """Algorithms a test registers (programmatically or as a plug-in path) are forgotten after."""
    before = set(list_algorithms())
    yield
    for name in set(list_algorithms()) - before:
        unregister_algorithm(name)
