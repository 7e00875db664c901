"""One lock per run configuration, shared by every process that could train it.

Keyed by config hash (not directory), so the same FP32 run needed by jobs of different
experiments, launchers or machines on a shared file system is trained once: the others wait,
then find its completed record. fcntl locks die with their process, so a SIGKILLed job never
leaves a stale lock behind.
"""

from __future__ import annotations

from pathlib import Path

from filelock import FileLock
from omegaconf import DictConfig

from bibench_cli.engine.identity import config_hash


def run_lock(cfg: DictConfig) -> FileLock:
    """Re-entrant (within a process) lock for the run ``cfg`` describes."""
    lock_dir = Path(cfg.paths.outputs) / ".locks"
    lock_dir.mkdir(parents=True, exist_ok=True)
    return FileLock(str(lock_dir / f"{config_hash(cfg)}.lock"), is_singleton=True)
