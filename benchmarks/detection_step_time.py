"""Median training-step time of a detector (Faster R-CNN R18-C4 or SSD300) per binarization
algorithm, vs FP32.

One step = forward (the detector's losses) + backward + Adam step on a fixed batch of
random images with a few boxes each; layers and ReLUs kept as the architecture declares
(protocol and columns: ``step_timing.py``). ``--params`` takes ``arch.params`` (e.g.
smaller sizes on CPU).

    python benchmarks/detection_step_time.py --arch faster_rcnn_r18 --threads 1 \\
        --params min_size=96 max_size=160 rpn_post_nms_top_n_train=100 box_batch_size_per_image=16
"""

from __future__ import annotations

import argparse

import torch
from step_timing import add_common_arguments, binarized_model, time_algorithms

from bibench_cli.data.voc import VOC_CLASSES
from bibench_cli.models.inputs import DetectionInput, TaskShape

SHAPE = TaskShape(DetectionInput(VOC_CLASSES), {"num_classes": len(VOC_CLASSES) + 1})


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_common_arguments(parser, steps=5, warmup=1, batch_size=2)
    parser.add_argument(
        "--arch", choices=("faster_rcnn_r18", "ssd300_vgg16"), default="faster_rcnn_r18"
    )
    parser.add_argument("--params", nargs="*", default=[], help="arch.params as key=int")
    parser.add_argument("--image-size", type=int, nargs=2, default=(375, 500), help="H W")
    args = parser.parse_args()
    params = {key: int(value) for key, value in (item.split("=") for item in args.params)}
    batch = make_batch(args)
    time_algorithms(
        args,
        f"{args.arch} {params or '(official sizes)'}, batch {args.batch_size} x "
        f"{args.image_size[0]}x{args.image_size[1]}",
        lambda algo: binarized_model(args.arch, SHAPE, algo, SHAPE.input.example(2), **params),
        lambda model: torch.optim.Adam(model.parameters(), lr=1e-4),
        lambda model: torch.stack(list(model(*batch).values())).sum(),  # the detector's losses
    )


if __name__ == "__main__":
    main()
