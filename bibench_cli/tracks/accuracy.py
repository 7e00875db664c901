"""Learning-task and neural-architecture tracks (paper eq. 2-3): relative accuracy, then means.

Both read the same relative accuracies; they differ only in how cells are grouped, so the
architecture track weighs a task with many subtasks (GLUE, ShapeNet) as one (task, arch) pair.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from bibench_cli.tracks.common import (
    Footnote,
    TrackResult,
    algo_order,
    build_track,
    cell_stats,
    label,
    mean_over,
    missing_baseline_notes,
    runs,
    task_label,
    task_order,
    to_long,
    with_baseline,
)

CELL = ["task", "subtask", "arch"]
FAMILY_NAMES = {"cnn": "CNNs", "transformer": "Transformers", "mlp": "MLPs"}


def relative_accuracy(frame: pd.DataFrame) -> pd.DataFrame:
    """r = 100 A_bi / A_fp32 per (task, subtask, arch, algo) over the accuracy-track runs, seeds
    averaged first; NaN where the cell has no FP32 run. ``r_std`` is the seed spread of r
    (first-order propagation of both accuracies' std)."""
    clean = runs(frame, sensitivity=False)
    cells = with_baseline(cell_stats(clean, CELL + ["family", "algo"]), CELL)
    r = 100.0 * cells["mean"] / cells["fp_mean"]
    spread = np.hypot(cells["std"] / cells["mean"], cells["fp_std"] / cells["fp_mean"])
    return cells[CELL + ["family", "algo"]].assign(r=r, r_std=(r * spread).fillna(0.0))


def learning_task(frame: pd.DataFrame) -> TrackResult | None:
    """Rows: each task's mean r over its (arch, subtask) cells; OM_task: their quadratic mean."""
    rel = relative_accuracy(frame)
    if rel.empty:
        return None
    long = pd.DataFrame(
        {
            "row": rel["task"].map(task_label),
            "item": label(rel["arch"], rel["subtask"]),
            "algo": rel["algo"],
            "value": rel["r"],
            "std": rel["r_std"],
        }
    )
    rows = [task_label(t) for t in task_order(rel["task"])]
    return build_track(
        "task",
        "Learning Task (%)",
        long,
        rows,
        ("OM_task", "tasks"),
        "(arch, subtask) cells",
        keep_std=True,
        notes=missing_baseline_notes(long, "FP32 baseline"),
    )


def architecture(frame: pd.DataFrame) -> TrackResult | None:
    """Rows: per family, the mean over (task, arch) pairs of each pair's mean r over subtasks;
    OM_arch: their quadratic mean (paper eq. 3)."""
    rel = relative_accuracy(frame)
    if rel.empty:
        return None
    known = rel["family"].isin(list(FAMILY_NAMES))
    notes = []
    if not known.all():
        unknown = label(rel["task"], rel["arch"])[~known].unique()
        notes.append(Footnote(None, None, f"unknown family, left out: {', '.join(unknown)}"))
    algos = rel["algo"]
    rel = rel[known]
    pair = label(rel["task"], rel["arch"])
    subtasks = pd.DataFrame(
        {"row": pair, "item": rel["subtask"], "algo": rel["algo"], "value": rel["r"],
         "std": rel["r_std"]}
    )  # fmt: skip
    pair_rows = list(dict.fromkeys(pair))
    pair_values, pair_std, pair_notes = mean_over(
        subtasks, pair_rows, algo_order(rel["algo"]), "subtasks"
    )
    family_of = dict(zip(pair, rel["family"].map(FAMILY_NAMES), strict=True))
    notes += [Footnote(family_of[n.row], n.algo, n.text) for n in pair_notes]
    long = to_long(pair_values, pair_std).rename(columns={"row": "item"})
    long["row"] = long["item"].map(family_of)
    notes += missing_baseline_notes(long, "FP32 baseline")
    rows = [FAMILY_NAMES[f] for f in FAMILY_NAMES if FAMILY_NAMES[f] in set(long["row"])]
    return build_track(
        "arch",
        "Neural Architecture (%)",
        long,
        rows,
        ("OM_arch", "families"),
        "(task, arch) pairs",
        keep_std=True,
        notes=notes,
        algos=algos,
    )
