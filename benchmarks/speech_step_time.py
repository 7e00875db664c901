"""Median training-step time of D-FSMN (or FSMN) per binarization algorithm, vs FP32.

One step = forward + backward + SGD (nesterov) step on a fixed batch of 1×32×32 log-mel
features, computed once (the log-mel front end is not part of the step); protocol and
columns: ``step_timing.py``.

    python benchmarks/speech_step_time.py --steps 20 --batch-size 96 --threads 1
"""

from __future__ import annotations

import argparse

import torch
import torch.nn.functional as F
from step_timing import add_common_arguments, binarized_model, time_algorithms

from bibench_cli.tasks import get_task


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_common_arguments(parser, steps=20, warmup=2, batch_size=96)
    parser.add_argument("--arch", choices=("dfsmn", "fsmn"), default="dfsmn")
    args = parser.parse_args()
    g = torch.Generator().manual_seed(0)
    # log-mel dB features of real clips lie around -40 ± 25
    x = (torch.randn(args.batch_size, 1, 32, 32, generator=g) * 25 - 40).to(args.device)
    y = torch.randint(0, 12, (args.batch_size,), generator=g).to(args.device)
    shape = get_task("speechcommands").shape({}, None)
    time_algorithms(
        args,
        f"{args.arch}, batch {args.batch_size}, 1x32x32",
        lambda algo: binarized_model(args.arch, shape, algo, x[:2]),
        lambda model: torch.optim.SGD(
            model.parameters(), lr=5e-3, momentum=0.9, nesterov=True, weight_decay=1e-4
        ),
        lambda model: F.cross_entropy(model(x), y),
    )


if __name__ == "__main__":
    main()
