"""Median training-step time of PointNet per binarization algorithm, vs FP32.

The model is built and binarized as a run builds it: the task's input shape (ModelNet40
classification or ShapeNet part segmentation), the architecture's declared full-precision
layers and activation. One step = forward + backward + Adam step on a fixed random batch,
with ``set_progress`` called every step as the engine does. All algorithms run in one
process and are interleaved step by step, so load from other processes hits them alike.

    python benchmarks/pointnet_step_time.py --steps 5 --threads 1 --algos bnn,fda
    python benchmarks/pointnet_step_time.py --task shapenet --points 2048 --batch-size 8
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
from torch import nn

from bibench_cli.binarize import BinarizePolicy, binarize, list_algorithms, set_progress
from bibench_cli.models import build_model, get_architecture
from bibench_cli.models.inputs import PartPointsInput
from bibench_cli.tasks import get_task

TASKS = ("modelnet40", "shapenet")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=10, help="timed steps per algorithm")
    parser.add_argument("--warmup", type=int, default=2, help="untimed steps per algorithm")
    parser.add_argument("--task", choices=TASKS, default="modelnet40")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--points", type=int, default=1024)
    parser.add_argument("--arch", choices=("pointnet", "pointnet_vanilla"), default="pointnet")
    parser.add_argument("--aggregation", default="ema_max")
    parser.add_argument("--algos", default="", help="comma-separated names (default: all)")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: default)")
    parser.add_argument("--device", default="cpu")
    return parser.parse_args()


def batch(args: argparse.Namespace, classes: int, categorised: bool):
    """Random model inputs and targets for ``args``' task, on its device."""
    g = torch.Generator().manual_seed(0)
    channels = 6 if args.task == "shapenet" else 3
    points = torch.randn(args.batch_size, channels, args.points, generator=g)
    if args.task == "modelnet40":
        targets = torch.randint(0, classes, (args.batch_size,), generator=g)
        inputs: tuple[torch.Tensor, ...] = (points,)
    else:
        targets = torch.randint(0, classes, (args.batch_size, args.points), generator=g)
        categories = torch.randint(0, 16, (args.batch_size,), generator=g)
        inputs = (points, categories) if categorised else (points,)
    return tuple(x.to(args.device) for x in inputs), targets.to(args.device)


class Runner:
    """One algorithm's model, optimizer and step."""

    def __init__(self, algo: str, args: argparse.Namespace, total: int) -> None:
        torch.manual_seed(0)
        shape = get_task(args.task).shape({"num_points": args.points}, None)
        arch = get_architecture(args.arch)
        self.model = build_model(args.arch, shape, aggregation=args.aggregation)
        policy = BinarizePolicy.declared_by(arch.keep_for(shape), activation=arch.activation)
        categorised = isinstance(shape.input, PartPointsInput) and shape.input.categories > 0
        self.inputs, self.targets = batch(args, shape.outputs["num_classes"], categorised)
        binarize(self.model, algo, policy, example_input=tuple(x[:2] for x in self.inputs))
        self.model.to(args.device)
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=1e-3)
        self.loss = nn.CrossEntropyLoss()
        self.total, self.done = total, 0
        self.sync = torch.cuda.synchronize if args.device.startswith("cuda") else lambda: None
        self.times: list[float] = []

    def step(self, timed: bool) -> None:
        self.sync()
        start = time.perf_counter()
        set_progress(self.model, min(self.done / self.total, 1.0))
        self.optimizer.zero_grad(set_to_none=True)
        self.loss(self.model(*self.inputs), self.targets).backward()
        self.optimizer.step()
        self.sync()
        self.done += 1
        if timed:
            self.times.append(time.perf_counter() - start)


def main() -> None:
    args = parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    algos = [a for a in args.algos.split(",") if a] or list_algorithms()
    algos = ["fp32", *(a for a in algos if a != "fp32")]
    total = args.warmup + args.steps
    runners = {algo: Runner(algo, args, total) for algo in algos}
    for step in range(total):
        for runner in runners.values():
            runner.step(timed=step >= args.warmup)
    base = statistics.median(runners["fp32"].times)
    base_min = min(runners["fp32"].times)
    print(
        f"{args.arch} ({args.aggregation}) on {args.task}, batch {args.batch_size} x "
        f"{args.points} points, {args.steps} steps, {args.device}, "
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
