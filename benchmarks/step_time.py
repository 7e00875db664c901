"""Median training-step time of a CIFAR ResNet-20 per binarization algorithm, vs FP32.

One step = forward + backward + Adam step on a fixed batch of 32×32 images, with
``set_progress`` called every step as the engine does. All algorithms run in one process
and are interleaved step by step, so load from other processes hits them alike.

    python benchmarks/step_time.py --steps 20 --batch-size 128 --algos bnn,fda
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
from torch import nn

from bibench_cli.binarize import binarize, list_algorithms, set_progress
from bibench_cli.models.inputs import ImageInput
from bibench_cli.models.resnet import resnet20


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20, help="timed steps per algorithm")
    parser.add_argument("--warmup", type=int, default=2, help="untimed steps per algorithm")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--algos", default="", help="comma-separated names (default: all)")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: default)")
    return parser.parse_args()


class Runner:
    """One algorithm's model, optimizer and step."""

    def __init__(self, algo: str, x: torch.Tensor, y: torch.Tensor, total: int) -> None:
        torch.manual_seed(0)
        self.model = resnet20(ImageInput(3, 32), num_classes=10)
        binarize(self.model, algo, example_input=x[:2])
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=1e-3)
        self.loss = nn.CrossEntropyLoss()
        self.x, self.y, self.total, self.done = x, y, total, 0
        self.times: list[float] = []

    def step(self, timed: bool) -> None:
        start = time.perf_counter()
        set_progress(self.model, min(self.done / self.total, 1.0))
        self.optimizer.zero_grad(set_to_none=True)
        self.loss(self.model(self.x), self.y).backward()
        self.optimizer.step()
        self.done += 1
        if timed:
            self.times.append(time.perf_counter() - start)


def main() -> None:
    args = parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    algos = [a for a in args.algos.split(",") if a] or list_algorithms()
    algos = ["fp32", *(a for a in algos if a != "fp32")]
    g = torch.Generator().manual_seed(0)
    x = torch.randn(args.batch_size, 3, 32, 32, generator=g)
    y = torch.randint(0, 10, (args.batch_size,), generator=g)
    total = args.warmup + args.steps
    runners = {algo: Runner(algo, x, y, total) for algo in algos}
    for step in range(total):
        for runner in runners.values():
            runner.step(timed=step >= args.warmup)
    base = statistics.median(runners["fp32"].times)
    base_min = min(runners["fp32"].times)
    print(
        f"ResNet-20, batch {args.batch_size}, 32x32, {args.steps} steps, "
        f"{torch.get_num_threads()} threads, torch {torch.__version__}"
    )
    # ratio: of medians (the target). min ratio: of fastest steps, the cost without
    # interference; on a shared CPU the two part ways, and --threads 1 steadies both.
    print(f"{'algorithm':<10} {'median ms':>10} {'ratio':>7} {'min ratio':>10}")
    for algo, runner in runners.items():
        median = statistics.median(runner.times)
        fastest = min(runner.times) / base_min
        print(f"{algo:<10} {median * 1e3:>10.1f} {median / base:>7.2f} {fastest:>10.2f}")


if __name__ == "__main__":
    main()
