"""Corruption-robustness track (paper eq. 4-5): ratio of generalization gaps G_fp32 / G_bi.

G = A_clean - A_corrupted per run and (corruption, severity) entry, with both accuracies from
the one evaluation that produced the corrupted ones (the record's ``corruption.clean``), so a
corruption that changes no prediction gives G = 0 exactly. Seeds of the cell's recipe are
averaged, and the FP32 gap comes from the FP32 runs the cell started from (``tracks.cells``).

Where G_bi <= 0 the binarized model lost no accuracy to that corruption and G_fp32 / G_bi is
undefined (infinite or of flipped sign); such entries are left out of that algorithm's mean
and named in a footnote rather than divided through or clipped. A negative ratio (the FP32
model gained accuracy under the corruption, the binarized one lost some) counts as 0.
"""

from __future__ import annotations

import pandas as pd

from bibench_cli.errors import item_list
from bibench_cli.tracks.cells import CELL, ROW, accuracy_runs, with_baselines
from bibench_cli.tracks.common import (
    Footnote,
    TrackResult,
    build_track,
    label,
    missing_baseline_notes,
    task_label,
    task_order,
)


def corruption_label(task: str) -> str:
    """The corrupted benchmark's name: cifar10 -> CIFAR10-C."""
    return f"{task_label(task)}-C"


def _gap(rows: pd.DataFrame) -> pd.DataFrame:
    corrupted = rows[rows["corruption"] != ""]
    return corrupted.assign(value=corrupted["clean_value"] - corrupted["value"])


def gaps(frame: pd.DataFrame, experiment: str) -> pd.DataFrame:
    """G per (cell, corruption, severity) of ``experiment`` as ``mean`` (seeds averaged), with
    the FP32 gap as ``fp_mean`` (NaN where FP32 lacks it)."""
    selection = accuracy_runs(frame, experiment)
    mine = _gap(selection.runs)
    return with_baselines(_gap(frame), mine, experiment, [*CELL, *ROW[1:]])


def robustness(frame: pd.DataFrame, experiment: str) -> TrackResult | None:
    """Rows: per corruption task, the mean of 100 G_fp32 / G_bi over its entries;
    OM_robust: their quadratic mean."""
    entries = gaps(frame, experiment)
    if entries.empty:
        return None
    defined = entries["mean"] > 0
    ratio = 100.0 * entries["fp_mean"] / entries["mean"]
    long = pd.DataFrame(
        {
            "row": entries["task"].map(corruption_label),
            "item": label(
                label(entries["arch"], entries["subtask"]),
                label(entries["corruption"], entries["severity"]),
                sep=" ",
            ),
            "algo": entries["algo"],
            "value": ratio.where(defined).clip(lower=0.0),
            "std": 0.0,
            "n": entries["n"],
        }
    )
    notes = missing_baseline_notes(long[defined], "FP32 gap")
    unknown = entries["mean"].isna()
    if unknown.any():
        shown = item_list(list(label(long["algo"], long["item"], sep=" ")[unknown]))
        notes.append(Footnote(None, None, f"no clean accuracy from the same evaluation: {shown}"))
    nonpositive = ~defined & ~unknown
    for (row, algo), items in long[nonpositive].groupby(["row", "algo"], sort=False)["item"]:
        notes.append(
            Footnote(
                row,
                algo,
                f"{algo}: G_bi <= 0 (no accuracy lost) on {len(items)} entries, left out: "
                f"{item_list(list(items))}",
            )
        )
    negative = long[defined & (ratio < 0)]
    if not negative.empty:
        shown = item_list(list(label(negative["algo"], negative["item"], sep=" ")))
        notes.append(Footnote(None, None, f"G_fp32 < 0 < G_bi counted as 0: {shown}"))
    rows = [corruption_label(t) for t in task_order(entries["task"])]
    return build_track(
        "robust",
        "Corruption Robustness: 100 · G_fp32 / G_bi, G = A_clean - A_corrupted (%)",
        long,
        rows,
        ("OM_robust", "corruption tasks"),
        "entries",
        notes=notes,
        experiment=experiment,
    )
