"""Corruption-robustness evaluation (paper section 3.1 ③, eq. 4-5) of a trained model.

A task with a published corruption release (CIFAR-10's ``CIFAR-10-C``, named by the task's
``corruption_release``) uses it when it is found under ``data.root``; otherwise the 19
corruptions are generated from the task's own test set with a fixed seed, so every model of
a comparison sees the same images. Clean and corrupted accuracies come from one function at
one precision, so a corruption that changes no prediction gives a gap of exactly 0. The
result says which source was used (and which generated corruptions are procedural stand-ins).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from bibench_cli.data.cifar10c import check_root, load_cifar10c
from bibench_cli.data.corruptions import CORRUPTIONS, PROCEDURAL, SEVERITIES, corrupt
from bibench_cli.errors import BibenchError
from bibench_cli.runs.record import RunRecord, read_record, write_record

log = logging.getLogger("bibench")
SOURCES = ("auto", "cifar10c", "generated")  # cifar10c: the task's published release
CHUNK = 1000


def choose_source(release_dir: str, data_root: str | Path, requested: str = "auto") -> Path | None:
    """The release folder to read (``release_dir`` under ``data_root``; "" when the task has
    none), or None to generate the corruptions."""
    if requested not in SOURCES:
        raise BibenchError(
            f"unknown corruption source {requested!r}; available: {', '.join(SOURCES)}"
        )
    if requested == "generated":
        return None
    release = Path(data_root) / release_dir if release_dir else None
    if requested == "cifar10c":
        if release is None:
            raise BibenchError("this task has no published corruption release; use generated")
        check_root(release)  # one-line DatasetNotFoundError naming what is missing
        return release
    return release if release is not None and (release / "labels.npy").is_file() else None


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
    release_dir: str,
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
    release = choose_source(release_dir, data_root, source)
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


def add_corruptions(
    run_dir: Path, *, source: str = "auto", data_root: str | None = None, seed: int = 0
) -> RunRecord:
    """Evaluate a finished run on the corruptions and add the results to its record.

    The run is rebuilt from its saved ``config.yaml``, binarized as it was trained and loaded
    from its ``model.pt``; only then is its record re-read and rewritten atomically with the
    new ``corruption`` field, so every other field is kept and a killed evaluation leaves the
    record exactly as it was.
    """
    from bibench_cli.engine.build import load_finished

    run = load_finished(run_dir, data_root)
    log.info("evaluating %s on the corruptions (%s)", run_dir, source)
    result = evaluate_corruptions(
        run.built.model,
        run.datamodule,
        run.spec.corruption_release,
        run.cfg.data.root,
        source=source,
        seed=seed,
    )
    record = read_record(run_dir)  # the latest version, whatever changed meanwhile
    record.corruption = result
    write_record(record, run_dir)
    return record
