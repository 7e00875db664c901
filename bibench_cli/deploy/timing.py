"""Latency as the median of repeated timed runs, several models interleaved in one process.

Interleaving (run A, run B, run A, ...) makes load from other processes on a shared machine
hit every model alike, so their ratio stays meaningful when absolute times drift.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Mapping


def interleaved_medians(
    runs: Mapping[str, Callable[[], object]], *, repeats: int = 50, warmup: int = 5
) -> dict[str, float]:
    """Median seconds per call of each of ``runs``, after ``warmup`` untimed rounds."""
    if repeats < 1:
        raise ValueError(f"repeats must be >= 1, got {repeats}")
    times: dict[str, list[float]] = {name: [] for name in runs}
    for round_index in range(warmup + repeats):
        for name, run in runs.items():
            start = time.perf_counter()
            run()
            elapsed = time.perf_counter() - start
            if round_index >= warmup:
                times[name].append(elapsed)
    return {name: statistics.median(values) for name, values in times.items()}
