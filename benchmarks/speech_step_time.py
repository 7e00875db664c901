"""Median training-step time of D-FSMN (or FSMN) per binarization algorithm, vs FP32.

One step = forward + backward + SGD (nesterov) step on a fixed batch of 1×32×32 log-mel
features, with ``set_progress`` every step as the engine does; the features are computed
once (the log-mel front end is not part of the step). Algorithms run interleaved step by
step in one process, so load from other processes hits them alike. Same protocol and
columns as ``benchmarks/step_time.py``.

    python benchmarks/speech_step_time.py --steps 20 --batch-size 96 --threads 1
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
from torch import nn

from bibench_cli.binarize import BinarizePolicy, binarize, list_algorithms, set_progress
from bibench_cli.models import build_model, get_architecture
from bibench_cli.tasks import get_task

ARCHS = ("dfsmn", "fsmn")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", choices=ARCHS, default="dfsmn")
    parser.add_argument("--steps", type=int, default=20, help="timed steps per algorithm")
    parser.add_argument("--warmup", type=int, default=2, help="untimed steps per algorithm")
    parser.add_argument("--batch-size", type=int, default=96)
    parser.add_argument("--algos", default="", help="comma-separated names (default: all)")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: default)")
    return parser.parse_args()


class Runner:
    """One algorithm's model, optimizer and step."""

    def __init__(self, arch: str, algo: str, x: torch.Tensor, y: torch.Tensor, total: int):
        torch.manual_seed(0)
        self.model = build_model(arch, get_task("speechcommands").shape({}, None))
        spec = get_architecture(arch)  # its full-precision layers and PReLU, as a run has them
        policy = BinarizePolicy.declared_by(spec.keep, activation=spec.activation)
        binarize(self.model, algo, policy, example_input=x[:2])
        self.optimizer = torch.optim.SGD(
            self.model.parameters(), lr=5e-3, momentum=0.9, nesterov=True, weight_decay=1e-4
        )
        self.loss = nn.CrossEntropyLoss()
        self.x, self.y, self.total, self.done = x, y, total, 0
        self.times: list[float] = []
        self.cpu_times: list[float] = []

    def step(self, timed: bool) -> None:
        start, cpu_start = time.perf_counter(), time.process_time()
        set_progress(self.model, min(self.done / self.total, 1.0))
        self.optimizer.zero_grad(set_to_none=True)
        self.loss(self.model(self.x), self.y).backward()
        self.optimizer.step()
        self.done += 1
        if timed:
            self.times.append(time.perf_counter() - start)
            self.cpu_times.append(time.process_time() - cpu_start)


def main() -> None:
    args = parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    algos = [a for a in args.algos.split(",") if a] or list_algorithms()
    algos = ["fp32", *(a for a in algos if a != "fp32")]
    g = torch.Generator().manual_seed(0)
    # log-mel dB features of real clips lie around -40 ± 25
    x = torch.randn(args.batch_size, 1, 32, 32, generator=g) * 25 - 40
    y = torch.randint(0, 12, (args.batch_size,), generator=g)
    total = args.warmup + args.steps
    runners = {algo: Runner(args.arch, algo, x, y, total) for algo in algos}
    for step in range(total):
        for runner in runners.values():
            runner.step(timed=step >= args.warmup)
    base = statistics.median(runners["fp32"].times)
    base_min = min(runners["fp32"].times)
    base_cpu = statistics.median(runners["fp32"].cpu_times)
    print(
        f"{args.arch}, batch {args.batch_size}, 1x32x32, {args.steps} steps, "
        f"{torch.get_num_threads()} threads, torch {torch.__version__}"
    )
    # ratio: of median wall times; min ratio: of fastest steps; cpu ratio: of median process
    # CPU times (steadier than wall time when other processes share the cores)
    print(f"{'algorithm':<10} {'median ms':>10} {'ratio':>7} {'min ratio':>10} {'cpu ratio':>10}")
    for algo, runner in runners.items():
        median = statistics.median(runner.times)
        fastest = min(runner.times) / base_min
        cpu = statistics.median(runner.cpu_times) / base_cpu
        print(
            f"{algo:<10} {median * 1e3:>10.1f} {median / base:>7.2f} {fastest:>10.2f} {cpu:>10.2f}"
        )


if __name__ == "__main__":
    main()
