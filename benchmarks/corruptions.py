"""Throughput of every corruption: images per second and projected time for a test set.

    python benchmarks/corruptions.py [--images 500] [--severity 3] [--size 32] [--test-set 10000]

Single process, one image at a time as ``corrupt()`` runs; the images are smooth random
textures (content barely matters for speed, except JPEG).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from scipy import ndimage

from bibench_cli.data.corruptions import corrupt, list_corruptions


def smooth_images(count: int, size: int, seed: int = 0) -> np.ndarray:
    """Natural-ish uint8 images: blurred noise at two scales plus a gradient."""
    rng = np.random.default_rng(seed)
    noise = rng.random((count, size, size, 3))
    coarse = ndimage.gaussian_filter(noise, (0, size / 8, size / 8, 0))
    fine = ndimage.gaussian_filter(noise, (0, 1, 1, 0))
    ramp = np.linspace(0, 1, size)[None, :, None, None]
    image = 0.5 + 4 * (coarse - 0.5) + 0.5 * (fine - 0.5) + 0.2 * (ramp - 0.5)
    return np.clip(np.rint(image * 255), 0, 255).astype(np.uint8)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=500)
    parser.add_argument("--severity", type=int, default=3)
    parser.add_argument("--size", type=int, default=32)
    parser.add_argument("--test-set", type=int, default=10_000)
    args = parser.parse_args()
    images = smooth_images(args.images, args.size)
    print(f"{args.images} images of {args.size}×{args.size}×3, severity {args.severity}")
    print(f"{'corruption':<18} {'images/s':>10} {f'{args.test_set} images':>16}")
    total = 0.0
    for name in list_corruptions():
        start = time.perf_counter()
        corrupt(images, name, args.severity, seed=0)
        rate = args.images / (time.perf_counter() - start)
        total += args.test_set / rate
        print(f"{name:<18} {rate:>10.0f} {args.test_set / rate:>14.1f} s")
    print(f"{'all 19':<18} {'':>10} {total:>14.1f} s  (one severity)")


if __name__ == "__main__":
    main()
