"""Corruption-robustness track (paper eq. 4-5): ratio of generalization gaps G_fp32 / G_bi.

G = A_clean - A_corrupted per (arch, subtask, corruption, severity) entry, seeds averaged first.
Where G_bi <= 0 the binarized model lost no accuracy to that corruption and G_fp32 / G_bi is
undefined (infinite or of flipped sign); such entries are left out of that algorithm's mean
and named in a footnote rather than divided through or clipped.
"""

from __future__ import annotations

import pandas as pd

from bibench_cli.tracks.common import (
    Footnote,
    TrackResult,
    build_track,
    cell_stats,
    item_list,
    label,
    missing_baseline_notes,
    runs,
    task_label,
    task_order,
    with_baseline,
)

CELL = ["task", "subtask", "arch"]
ENTRY = CELL + ["corruption", "severity"]


def corruption_label(task: str) -> str:
    """The corrupted benchmark's name: cifar10 -> CIFAR10-C."""
    return f"{task_label(task)}-C"


def gaps(frame: pd.DataFrame) -> pd.DataFrame:
    """G per (entry, algo) from seed-averaged clean and corrupted accuracies, with the FP32
    entry's gap as ``G_fp`` (NaN where FP32 lacks it)."""
    evaluated = runs(frame, sensitivity=False, clean=False)
    corrupted = evaluated[evaluated["corruption"] != ""]
    clean = evaluated[(evaluated["corruption"] == "") & evaluated["task"].isin(corrupted["task"])]
    clean_mean = cell_stats(clean, CELL + ["algo"])[CELL + ["algo", "mean"]]
    entries = cell_stats(corrupted, ENTRY + ["algo"]).merge(
        clean_mean, on=CELL + ["algo"], how="left", suffixes=("_corr", "_clean")
    )
    entries["mean"] = entries["mean_clean"] - entries["mean_corr"]
    entries["std"] = 0.0
    return with_baseline(entries[ENTRY + ["algo", "mean", "std"]], ENTRY).rename(
        columns={"mean": "G_bi", "fp_mean": "G_fp"}
    )


def robustness(frame: pd.DataFrame) -> TrackResult | None:
    """Rows: per corruption task, the mean of 100 G_fp32 / G_bi over its entries;
    OM_robust: their quadratic mean."""
    entries = gaps(frame)
    if entries.empty:
        return None
    defined = entries["G_bi"] > 0
    long = pd.DataFrame(
        {
            "row": entries["task"].map(corruption_label),
            "item": label(
                label(entries["arch"], entries["subtask"]),
                label(entries["corruption"], entries["severity"]),
                sep=" ",
            ),
            "algo": entries["algo"],
            "value": (100.0 * entries["G_fp"] / entries["G_bi"]).where(defined),
            "std": 0.0,
        }
    )
    notes = missing_baseline_notes(long[defined], "FP32 gap")
    for (row, algo), items in long[~defined].groupby(["row", "algo"], sort=False)["item"]:
        notes.append(
            Footnote(
                row,
                algo,
                f"{algo}: G_bi <= 0 (no accuracy lost) on {len(items)} entries, left out: "
                f"{item_list(list(items))}",
            )
        )
    rows = [corruption_label(t) for t in task_order(entries["task"])]
    return build_track(
        "robust",
        "Corruption Robustness (%)",
        long,
        rows,
        ("OM_robust", "corruption tasks"),
        "entries",
        notes=notes,
    )
