"""One lock per run, shared by every process that could train it.

Keyed by run id (not directory), so the same FP32 run needed by jobs of different
experiments, launchers or machines on a shared file system is trained once: the others wait,
saying what for, then find its completed record. fcntl locks die with their process, so a
SIGKILLed job never leaves a stale lock behind.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

from bibench_cli.runs.identity import RunIdentity

log = logging.getLogger("bibench")
REMIND_SECONDS = 600.0


@contextmanager
def run_lock(identity: RunIdentity) -> Iterator[None]:
    """Hold the run's lock (re-entrant within a process); while another process holds it,
    say so now and every ``REMIND_SECONDS``."""
    lock_dir = Path(identity.config["paths"]["outputs"]) / ".locks"
    lock_dir.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(lock_dir / f"{identity.run_id}.lock"), is_singleton=True)
    timeout = 0.0
    while True:
        try:
            lock.acquire(timeout=timeout)
            break
        except Timeout:
            log.info(
                "waiting for %s: another process is running %s", lock.lock_file, identity.subdir
            )
            timeout = REMIND_SECONDS
    try:
        yield
    finally:
        lock.release()
