"""Theoretical-complexity and hardware-inference tracks (paper eq. 7-9), from what runs record.

The complexity track averages the r_s / r_c each binarized run recorded (counted by
``tracks.complexity``) over architectures; the inference track divides the FP32 model's
measured time and storage by the binarized one's on the same (task, arch, device).
"""

from __future__ import annotations

import pandas as pd

from bibench_cli.tracks.common import (
    COMPLETED,
    FP32,
    TrackResult,
    build_track,
    cell_stats,
    label,
    missing_baseline_notes,
    with_baseline,
)

ROWS = ["Speedup", "Compression"]


def _evaluated(frame: pd.DataFrame) -> pd.DataFrame:
    """Completed clean evaluations of every experiment: complexity does not depend on it."""
    return frame[(frame["status"] == COMPLETED) & (frame["corruption"] == "")]


def complexity(frame: pd.DataFrame) -> TrackResult | None:
    """Rows Speedup E(r_s) and Compression E(r_c) over architectures; OM_comp (eq. 8)."""
    binary = _evaluated(frame)
    binary = binary[binary["algo"] != FP32]
    parts = [
        cell_stats(binary[binary[column].notna()], ["arch", "algo"], column).assign(row=row)
        for row, column in zip(ROWS, ("r_s", "r_c"), strict=True)
    ]
    long = pd.concat(parts, ignore_index=True).rename(columns={"arch": "item", "mean": "value"})
    if long.empty:
        return None
    return build_track(
        "comp",
        "Theoretical Complexity (x)",
        long,
        ROWS,
        ("OM_comp", "ratios"),
        "architectures",
        fixed=True,
    )


def inference(frame: pd.DataFrame) -> TrackResult | None:
    """Rows Speedup E(T_fp32 / T_bi) and Compression E(S_fp32 / S_bi) over (task, arch,
    device) cells; OM_infer (eq. 9)."""
    measured = _evaluated(frame)
    cell = ["task", "arch", "infer_device"]
    parts = []
    for row, column in zip(ROWS, ("infer_time_s", "infer_storage_mb"), strict=True):
        stats = cell_stats(measured[measured[column].notna()], cell + ["algo"], column)
        stats = with_baseline(stats, cell)
        parts.append(
            pd.DataFrame(
                {
                    "row": row,
                    "item": label(
                        label(stats["arch"], stats["task"]), stats["infer_device"], sep=" on "
                    ),
                    "algo": stats["algo"],
                    "value": stats["fp_mean"] / stats["mean"],
                    "std": 0.0,
                }
            )
        )
    long = pd.concat(parts, ignore_index=True)
    if long.empty:
        return None
    return build_track(
        "infer",
        "Hardware Inference (x)",
        long,
        ROWS,
        ("OM_infer", "ratios"),
        "(arch, task, device) cells",
        fixed=True,
        notes=missing_baseline_notes(long, "FP32 measurement"),
    )
