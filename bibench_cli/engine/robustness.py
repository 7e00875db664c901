"""Corruption-robustness evaluation (paper section 3.1 ③, eq. 4-5) of a trained model.

The official CIFAR-10-C release is used when the task is CIFAR-10 and the release is found
under ``<data.root>/CIFAR-10-C``; otherwise the 19 corruptions are generated from the task's
own test set with a fixed seed, so every model of a comparison sees the same images. The
result says which source was used (and which generated corruptions are procedural stand-ins).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from bibench_cli.data.cifar10c import check_root, load_cifar10c
from bibench_cli.data.corruptions import CORRUPTIONS, PROCEDURAL, SEVERITIES, corrupt
from bibench_cli.errors import BibenchError

CIFAR10C_DIR = "CIFAR-10-C"
SOURCES = ("auto", "cifar10c", "generated")
CHUNK = 1000


def choose_source(task: str, data_root: str | Path, requested: str = "auto") -> Path | None:
    """The CIFAR-10-C folder to read, or None to generate the corruptions."""
    if requested not in SOURCES:
        raise BibenchError(
            f"unknown corruption source {requested!r}; available: {', '.join(SOURCES)}"
        )
    release = Path(data_root) / CIFAR10C_DIR
    if requested == "generated":
        return None
    if requested == "cifar10c":
        if task != "cifar10":
            raise BibenchError(f"the CIFAR-10-C release only fits task cifar10, not {task!r}")
        check_root(release)  # one-line DatasetNotFoundError naming what is missing
        return release
    return release if task == "cifar10" and (release / "labels.npy").is_file() else None


@torch.no_grad()
def accuracy(
    model: torch.nn.Module,
    images: np.ndarray,
    labels: np.ndarray,
    transform: Callable[[np.ndarray], torch.Tensor],
    batch_size: int = 256,
) -> float:
    """Top-1 accuracy in percent of ``model`` on raw N×H×W×C uint8 images."""
    device = next(model.parameters()).device
    correct = 0
    for start in range(0, len(images), batch_size):
        batch = transform(images[start : start + batch_size]).to(device)
        predicted = model(batch).argmax(dim=1).cpu().numpy()
        correct += int((predicted == labels[start : start + batch_size]).sum())
    return 100.0 * correct / max(len(images), 1)


def _generated(images: np.ndarray, name: str, severity: int, seed: int) -> np.ndarray:
    """Corrupt in chunks (bounded memory); ``first_index`` keeps results chunk-independent."""
    return np.concatenate(
        [
            corrupt(images[i : i + CHUNK], name, severity, seed=seed, first_index=i)
            for i in range(0, len(images), CHUNK)
        ]
    )


def evaluate_corruptions(
    model: torch.nn.Module,
    datamodule,
    task: str,
    data_root: str | Path,
    *,
    source: str = "auto",
    seed: int = 0,
    corruptions: Iterable[str] | None = None,
    severities: Iterable[int] = SEVERITIES,
) -> dict[str, Any]:
    """Clean accuracy and one accuracy per ``"<corruption>/<severity>"``, for the record."""
    names = list(corruptions) if corruptions is not None else list(CORRUPTIONS)
    unknown = sorted(set(names) - set(CORRUPTIONS))
    if unknown:
        raise BibenchError(
            f"unknown corruption(s) {', '.join(unknown)}; available: {', '.join(CORRUPTIONS)}"
        )
    release = choose_source(task, data_root, source)
    was_training = model.training
    model.eval()
    try:
        images, labels = datamodule.test_images_uint8()
        transform = datamodule.eval_transform
        results = {}
        for name in names:
            for severity in severities:
                if release is not None:
                    corrupted, truth = load_cifar10c(release, name, severity)
                else:
                    corrupted, truth = _generated(images, name, severity, seed), labels
                results[f"{name}/{severity}"] = accuracy(model, corrupted, truth, transform)
        clean = accuracy(model, images, labels, transform)
    finally:
        model.train(was_training)
    return {
        "source": "CIFAR-10-C release" if release is not None else "generated",
        "release_dir": str(release) if release is not None else "",
        "procedural": [] if release is not None else sorted(PROCEDURAL & set(names)),
        "seed": seed,
        "clean": clean,
        "results": results,
    }
