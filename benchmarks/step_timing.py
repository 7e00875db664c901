"""The protocol every ``*_step_time.py`` benchmark shares.

One model per algorithm, FP32 first, built and binarized as a run builds it (the
architecture's declared full-precision layers, activation, kept ReLUs and module
replacements); the models are stepped in turn, step by step, in one process, so load from
other processes hits them alike; steps after the warm-up are timed. Each step calls
``set_progress`` as the engine does. The table gives, per algorithm, the median step time and
three ratios to FP32: of median wall times (the target), of fastest steps (the cost without
interference) and of median process CPU times (steadier than wall time on a shared machine;
with one thread, wall time less the time the process was descheduled).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from bibench_cli.binarize import binarize, list_algorithms, set_progress
from bibench_cli.models import build_model, get_architecture
from bibench_cli.models.inputs import TaskShape

FP32 = "fp32"


def add_common_arguments(
    parser: argparse.ArgumentParser, *, steps: int, warmup: int, batch_size: int
) -> None:
    parser.add_argument("--steps", type=int, default=steps, help="timed steps per algorithm")
    parser.add_argument("--warmup", type=int, default=warmup, help="untimed steps per algorithm")
    parser.add_argument("--batch-size", type=int, default=batch_size)
    parser.add_argument("--algos", default="", help="comma-separated names (default: all)")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: default)")
    parser.add_argument("--device", default="cpu")


def algorithms(names: str) -> list[str]:
    """``--algos`` (all registered algorithms when empty), FP32 first."""
    chosen = [a for a in names.split(",") if a] or list_algorithms()
    return [FP32, *(a for a in chosen if a != FP32)]


def binarized_model(
    arch: str, shape: TaskShape, algo: str, example: Any, **params: Any
) -> nn.Module:
    """The model of ``arch`` for ``shape``, binarized by ``algo`` as a run binarizes it."""
    torch.manual_seed(0)
    model = build_model(arch, shape, **params)
    binarize(model, algo, get_architecture(arch).policy(shape), example_input=example)
    return model


class StepTimer:
    """Times ``loss(model)`` + backward + ``optimizer`` step, one step per call."""

    def __init__(
        self,
        model: nn.Module,
        optimizer: torch.optim.Optimizer,
        loss: Callable[[nn.Module], torch.Tensor],
        total: int,
        device: str = "cpu",
    ) -> None:
        self.model, self.optimizer, self.loss, self.total = model, optimizer, loss, total
        self.sync = torch.cuda.synchronize if device.startswith("cuda") else lambda: None
        self.done = 0
        self.times: list[float] = []
        self.cpu_times: list[float] = []

    def step(self, timed: bool) -> None:
        self.sync()
        start, cpu_start = time.perf_counter(), time.process_time()
        set_progress(self.model, min(self.done / self.total, 1.0))
        self.optimizer.zero_grad(set_to_none=True)
        self.loss(self.model).backward()
        self.optimizer.step()
        self.sync()
        self.done += 1
        if timed:
            self.times.append(time.perf_counter() - start)
            self.cpu_times.append(time.process_time() - cpu_start)


def time_algorithms(
    args: argparse.Namespace,
    title: str,
    build: Callable[[str], nn.Module],
    optimizer: Callable[[nn.Module], torch.optim.Optimizer],
    loss: Callable[[nn.Module], torch.Tensor],
) -> None:
    """Build each ``--algos`` model (``build(algo)``), step them in turn ``--warmup`` +
    ``--steps`` times on ``--device`` with ``--threads``, then print the table."""
    threads = set_threads(args.threads)
    timers = {}
    for algo in algorithms(args.algos):
        model = build(algo).to(args.device)
        total = args.warmup + args.steps
        timers[algo] = StepTimer(model, optimizer(model), loss, total, args.device)
    for step in range(args.warmup + args.steps):
        for timer in timers.values():
            timer.step(timed=step >= args.warmup)
    report(f"{title}, {args.device}", timers, steps=args.steps, threads=threads)


def report(title: str, timers: dict[str, StepTimer], *, steps: int, threads: int) -> None:
    """Print each algorithm's median step time and its ratios to FP32."""
    base = timers[FP32]
    median, fastest, cpu = (
        statistics.median(base.times),
        min(base.times),
        statistics.median(base.cpu_times),
    )
    print(f"{title}, {steps} steps, {threads} threads, torch {torch.__version__}")
    print(f"{'algorithm':<10} {'median ms':>10} {'ratio':>7} {'min ratio':>10} {'cpu ratio':>10}")
    for algo, timer in timers.items():
        own = statistics.median(timer.times)
        print(
            f"{algo:<10} {own * 1e3:>10.1f} {own / median:>7.2f} "
            f"{min(timer.times) / fastest:>10.2f} "
            f"{statistics.median(timer.cpu_times) / cpu:>10.2f}"
        )


def set_threads(threads: int) -> int:
    """Apply ``--threads`` (0: torch's default) and return the count in use."""
    if threads:
        torch.set_num_threads(threads)
    return torch.get_num_threads()
