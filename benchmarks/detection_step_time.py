"""Median training-step time of a detector (Faster R-CNN R18-C4 or SSD300) per binarization
algorithm, vs FP32.

One step = forward (the detector's losses) + backward + Adam step on a fixed batch of
random images with a few boxes each, with ``set_progress`` called every step as the engine
does. Layers and ReLUs are kept as the architecture declares (the run's policy). All
algorithms run in one process and are interleaved step by step, so load from other
processes hits them alike. ``--params`` takes ``arch.params`` (e.g. smaller sizes on CPU).

    python benchmarks/detection_step_time.py --arch faster_rcnn_r18 --threads 1 \\
        --params min_size=96 max_size=160 rpn_post_nms_top_n_train=100 box_batch_size_per_image=16
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from bibench_cli.binarize import BinarizePolicy, binarize, list_algorithms, set_progress
from bibench_cli.data.voc import VOC_CLASSES
from bibench_cli.models import build_model, get_architecture
from bibench_cli.models.inputs import DetectionInput, TaskShape

SHAPE = TaskShape(DetectionInput(VOC_CLASSES), {"num_classes": len(VOC_CLASSES) + 1})


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--arch", choices=("faster_rcnn_r18", "ssd300_vgg16"), default="faster_rcnn_r18"
    )
    parser.add_argument("--params", nargs="*", default=[], help="arch.params as key=int")
    parser.add_argument("--steps", type=int, default=5, help="timed steps per algorithm")
    parser.add_argument("--warmup", type=int, default=1, help="untimed steps per algorithm")
    parser.add_argument("--batch-size", type=int, default=2)
    parser.add_argument("--image-size", type=int, nargs=2, default=(375, 500), help="H W")
    parser.add_argument("--algos", default="", help="comma-separated names (default: all)")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: default)")
    parser.add_argument("--device", default="cpu")
    return parser.parse_args()


def make_batch(args: argparse.Namespace) -> tuple[list[torch.Tensor], list[dict]]:
    """Random images, each with three boxes of random classes inside it."""
    g = torch.Generator().manual_seed(0)
    height, width = args.image_size
    images, targets = [], []
    for _ in range(args.batch_size):
        images.append(torch.rand(3, height, width, generator=g))
        corner = torch.rand(3, 2, generator=g) * torch.tensor([width, height]) * 0.6
        size = (torch.rand(3, 2, generator=g) * 0.3 + 0.1) * torch.tensor([width, height])
        boxes = torch.cat([corner, corner + size], 1)
        labels = torch.randint(1, len(VOC_CLASSES) + 1, (3,), generator=g)
        targets.append({"boxes": boxes, "labels": labels})
    device = torch.device(args.device)
    return [i.to(device) for i in images], [
        {k: v.to(device) for k, v in t.items()} for t in targets
    ]


class Runner:
    """One algorithm's detector, optimizer and step."""

    def __init__(self, algo: str, args: argparse.Namespace, params: dict[str, int]) -> None:
        torch.manual_seed(0)
        spec = get_architecture(args.arch)
        self.model = build_model(args.arch, SHAPE, **params)
        policy = BinarizePolicy.declared_by(
            spec.keep, activation=spec.activation, keep_activations=spec.keep_activations
        )
        binarize(self.model, algo, policy, example_input=SHAPE.input.example(2))
        self.model.to(args.device).train()
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=1e-4)
        self.total, self.done, self.device = args.warmup + args.steps, 0, args.device
        self.times: list[float] = []

    def step(self, batch: tuple[list[torch.Tensor], list[dict]], timed: bool) -> None:
        if self.device != "cpu":
            torch.cuda.synchronize()
        start = time.perf_counter()
        set_progress(self.model, min(self.done / self.total, 1.0))
        self.optimizer.zero_grad(set_to_none=True)
        losses = self.model(*batch)
        torch.stack(list(losses.values())).sum().backward()
        self.optimizer.step()
        if self.device != "cpu":
            torch.cuda.synchronize()
        self.done += 1
        if timed:
            self.times.append(time.perf_counter() - start)


def main() -> None:
    args = parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    params = {key: int(value) for key, value in (item.split("=") for item in args.params)}
    algos = [a for a in args.algos.split(",") if a] or list_algorithms()
    algos = ["fp32", *(a for a in algos if a != "fp32")]
    batch = make_batch(args)
    runners = {algo: Runner(algo, args, params) for algo in algos}
    for step in range(args.warmup + args.steps):
        for runner in runners.values():
            runner.step(batch, timed=step >= args.warmup)
    base = statistics.median(runners["fp32"].times)
    base_min = min(runners["fp32"].times)
    print(
        f"{args.arch} {params or '(official sizes)'}, batch {args.batch_size} x "
        f"{args.image_size[0]}x{args.image_size[1]}, {args.steps} steps, {args.device}, "
        f"{torch.get_num_threads()} threads, torch {torch.__version__}"
    )
    # ratio: of medians. min ratio: of fastest steps, the cost without interference.
    print(f"{'algorithm':<10} {'median ms':>10} {'ratio':>7} {'min ratio':>10}")
    for algo, runner in runners.items():
        median = statistics.median(runner.times)
        fastest = min(runner.times) / base_min
        print(f"{algo:<10} {median * 1e3:>10.1f} {median / base:>7.2f} {fastest:>10.2f}")


if __name__ == "__main__":
    main()
