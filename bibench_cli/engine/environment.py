"""Facts about where a run executed, for its record: versions, device, host, peak memory."""

from __future__ import annotations

import platform
import resource
import socket
import sys
from importlib import metadata

import torch

_PACKAGES = ("bibench", "torch", "pytorch-lightning", "torchmetrics", "hydra-core", "omegaconf")


def versions() -> dict[str, str]:
    found = {"python": platform.python_version()}
    for package in _PACKAGES:
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            continue
    return found


def device_name(accelerator: str) -> str:
    if accelerator in ("gpu", "cuda", "auto") and torch.cuda.is_available():
        return torch.cuda.get_device_name(0)
    return f"cpu ({platform.processor() or platform.machine()}, {torch.get_num_threads()} threads)"


def hostname() -> str:
    return socket.gethostname()


def peak_memory_mb() -> float:
    """Peak GPU memory allocated when on CUDA, else the process's peak resident set size."""
    if torch.cuda.is_available() and torch.cuda.max_memory_allocated() > 0:
        return torch.cuda.max_memory_allocated() / 2**20
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return maxrss / (2**20 if sys.platform == "darwin" else 2**10)  # bytes on macOS, KiB on Linux
