"""Median training-step time of a CIFAR ResNet-20 per binarization algorithm, vs FP32.

One step = forward + backward + Adam step on a fixed batch of 32×32 images (protocol and
columns: ``step_timing.py``).

    python benchmarks/step_time.py --steps 20 --batch-size 128 --threads 1 --algos bnn,fda
"""

from __future__ import annotations

import argparse

import torch
import torch.nn.functional as F
from step_timing import add_common_arguments, binarized_model, time_algorithms

from bibench_cli.models.inputs import ImageInput, TaskShape

SHAPE = TaskShape(ImageInput(3, 32), {"num_classes": 10})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_common_arguments(parser, steps=20, warmup=2, batch_size=128)
    args = parser.parse_args()
    g = torch.Generator().manual_seed(0)
    x = torch.randn(args.batch_size, 3, 32, 32, generator=g).to(args.device)
    y = torch.randint(0, 10, (args.batch_size,), generator=g).to(args.device)
    time_algorithms(
        args,
        f"ResNet-20, batch {args.batch_size}, 32x32",
        lambda algo: binarized_model("resnet20", SHAPE, algo, x[:2]),
        lambda model: torch.optim.Adam(model.parameters(), lr=1e-3),
        lambda model: F.cross_entropy(model(x), y),
    )


if __name__ == "__main__":
    main()
