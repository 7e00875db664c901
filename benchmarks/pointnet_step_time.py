"""Median training-step time of PointNet per binarization algorithm, vs FP32.

The model is built for the task's input shape (ModelNet40 classification or ShapeNet part
segmentation). One step = forward + backward + Adam step on a fixed random batch (protocol
and columns: ``step_timing.py``).

    python benchmarks/pointnet_step_time.py --steps 5 --threads 1 --algos bnn,fda
    python benchmarks/pointnet_step_time.py --task shapenet --points 2048 --batch-size 8
"""

from __future__ import annotations

import argparse

import torch
import torch.nn.functional as F
from step_timing import add_common_arguments, binarized_model, time_algorithms

from bibench_cli.models.inputs import PartPointsInput
from bibench_cli.tasks import get_task

TASKS = ("modelnet40", "shapenet")


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_common_arguments(parser, steps=10, warmup=2, batch_size=32)
    parser.add_argument("--task", choices=TASKS, default="modelnet40")
    parser.add_argument("--points", type=int, default=1024)
    parser.add_argument("--arch", choices=("pointnet", "pointnet_vanilla"), default="pointnet")
    parser.add_argument("--aggregation", default="ema_max")
    args = parser.parse_args()
    shape = get_task(args.task).shape({"num_points": args.points}, None)
    categorised = isinstance(shape.input, PartPointsInput) and shape.input.categories > 0
    inputs, targets = batch(args, shape.outputs["num_classes"], categorised)
    example = tuple(x[:2] for x in inputs)
    time_algorithms(
        args,
        f"{args.arch} ({args.aggregation}) on {args.task}, batch {args.batch_size} x "
        f"{args.points} points",
        lambda algo: binarized_model(args.arch, shape, algo, example, aggregation=args.aggregation),
        lambda model: torch.optim.Adam(model.parameters(), lr=1e-3),
        lambda model: F.cross_entropy(model(*inputs), targets),
    )


if __name__ == "__main__":
    main()
