"""Learning-task and neural-architecture tracks (paper eq. 2-3): relative accuracy, then means.

r = 100 · A_bi / A_fp32 per cell (task, subtask, arch, algorithm) of one experiment: the
seeds of one recipe averaged, divided by the mean of the FP32 runs the cell started from
(``tracks.cells``). Metrics that can be 0 or negative (MCC, Pearson, mAP) get one rule before
anything is squared, so a worse score never raises an overall metric: a cell whose FP32
baseline is <= 0 has no defined ratio and is left out (footnoted); a binarized score <= 0
counts as r = 0, total loss (footnoted). Every r is then >= 0, and means and quadratic means
of non-negative numbers only grow when an input grows.

Both tracks read the same relative accuracies; they differ only in how cells are grouped, so
the architecture track weighs a task with many subtasks (GLUE, ShapeNet) as one (task, arch)
pair.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from bibench_cli.errors import item_list
from bibench_cli.tracks.cells import CELL, ROW, accuracy_runs, with_baselines
from bibench_cli.tracks.common import (
    Footnote,
    TrackResult,
    algo_order,
    build_track,
    is_clean,
    label,
    mean_over,
    missing_baseline_notes,
    task_label,
    task_order,
    to_long,
)

FAMILY_NAMES = {"cnn": "CNNs", "transformer": "Transformers", "mlp": "MLPs"}
RELATIVE = "relative to FP32, 100 · A_bi / A_fp32"


def relative_accuracy(frame: pd.DataFrame, experiment: str) -> tuple[pd.DataFrame, list[Footnote]]:
    """One row per binarized cell of ``experiment``: r, its seed spread ``r_std``
    (first-order propagation of both accuracies' std), the runs pooled ``n``, the FP32
    baseline ``fp_mean``/``fp_n``; and the notes on what was left out or clipped."""
    selection = accuracy_runs(frame, experiment)
    clean = selection.runs[is_clean(selection.runs)]
    cells = with_baselines(frame, clean, experiment, [*CELL, "family", "metric", *ROW[1:]])
    defined = cells["fp_mean"] > 0
    r = (100.0 * cells["mean"] / cells["fp_mean"]).where(defined)
    spread = np.hypot(cells["std"] / cells["mean"], cells["fp_std"] / cells["fp_mean"])
    r_std = (r * spread).where(r > 0, 0.0).fillna(0.0)
    notes = list(selection.notes)
    undefined = cells[cells["fp_mean"].notna() & ~defined]
    if not undefined.empty:
        names = label(undefined["task"], undefined["subtask"], undefined["arch"])
        notes.append(
            Footnote(
                None,
                None,
                f"FP32 baseline <= 0 ({item_list(list(names.unique()))}): no relative "
                "value, left out",
            )
        )
    clipped = cells[r < 0]
    if not clipped.empty:
        names = label(clipped["algo"], clipped["task"], clipped["subtask"], clipped["arch"])
        notes.append(
            Footnote(
                None,
                None,
                f"binarized score <= 0 counted as r = 0 (total loss): {item_list(list(names))}",
            )
        )
    cells = cells.assign(r=r.clip(lower=0.0), r_std=r_std)
    return cells, notes


def metric_label(task: str, metrics: pd.Series) -> str:
    """A task row's label with the metric(s) its relative values come from."""
    names = sorted(set(metrics.dropna()) - {""})
    return f"{task_label(task)} ({', '.join(names)})" if names else task_label(task)


def scored(rel: pd.DataFrame) -> pd.DataFrame:
    """The cells a track scores: all but those whose FP32 baseline is <= 0 (no relative value;
    ``relative_accuracy`` footnotes them, and the FP32 table still shows the baseline)."""
    return rel[~(rel["fp_mean"] <= 0)]


def _row_labels(rel: pd.DataFrame) -> dict[str, str]:
    return {t: metric_label(t, rel.loc[rel["task"] == t, "metric"]) for t in set(rel["task"])}


def learning_task(frame: pd.DataFrame, experiment: str) -> TrackResult | None:
    """Rows: each task's mean r over its (arch, subtask) cells; OM_task: their quadratic mean."""
    rel, notes = relative_accuracy(frame, experiment)
    rel = scored(rel)
    if rel.empty:
        return None
    rows_of = _row_labels(rel)
    long = pd.DataFrame(
        {
            "row": rel["task"].map(rows_of),
            "item": label(rel["arch"], rel["subtask"]),
            "algo": rel["algo"],
            "value": rel["r"],
            "std": rel["r_std"],
            "n": rel["n"],
        }
    )
    rows = [rows_of[t] for t in task_order(rel["task"])]
    return build_track(
        "task",
        f"Learning Task: {RELATIVE} (%)",
        long,
        rows,
        ("OM_task", "tasks"),
        "(arch, subtask) cells",
        keep_std=True,
        notes=[*notes, *missing_baseline_notes(long, "FP32 baseline")],
        experiment=experiment,
    )


def architecture(frame: pd.DataFrame, experiment: str) -> TrackResult | None:
    """Rows: per family, the mean over (task, arch) pairs of each pair's mean r over subtasks;
    OM_arch: their quadratic mean (paper eq. 3)."""
    rel, notes = relative_accuracy(frame, experiment)
    rel = scored(rel)
    if rel.empty:
        return None
    known = rel["family"].isin(list(FAMILY_NAMES))
    if not known.all():
        unknown = label(rel["task"], rel["arch"])[~known].unique()
        notes.append(Footnote(None, None, f"unknown family, left out: {', '.join(unknown)}"))
    algos = rel["algo"]
    rel = rel[known]
    pair = label(rel["task"], rel["arch"])
    subtasks = pd.DataFrame(
        {"row": pair, "item": rel["subtask"], "algo": rel["algo"], "value": rel["r"],
         "std": rel["r_std"], "n": rel["n"]}
    )  # fmt: skip
    pair_rows = list(dict.fromkeys(pair))
    pair_values, pair_std, pair_notes = mean_over(
        subtasks, pair_rows, algo_order(rel["algo"]), "subtasks"
    )
    family_of = dict(zip(pair, rel["family"].map(FAMILY_NAMES), strict=True))
    notes += [Footnote(family_of[n.row], n.algo, n.text) for n in pair_notes]
    long = to_long(pair_values, pair_std).rename(columns={"row": "item"})
    counts = subtasks.groupby(["row", "algo"])["n"].sum()
    long["n"] = [counts.get((item, algo), 0) for item, algo in zip(long["item"], long["algo"],
                                                                    strict=True)]  # fmt: skip
    long["row"] = long["item"].map(family_of)
    notes += missing_baseline_notes(long, "FP32 baseline")
    rows = [FAMILY_NAMES[f] for f in FAMILY_NAMES if FAMILY_NAMES[f] in set(long["row"])]
    return build_track(
        "arch",
        f"Neural Architecture: {RELATIVE} (%)",
        long,
        rows,
        ("OM_arch", "families"),
        "(task, arch) pairs",
        keep_std=True,
        notes=notes,
        algos=algos,
        experiment=experiment,
    )


def fp32_baselines(frame: pd.DataFrame, experiment: str) -> TrackResult | None:
    """The FP32 values the relative accuracies divide by, absolute, one row per cell."""
    rel, _ = relative_accuracy(frame, experiment)
    rel = rel[rel["fp_mean"].notna()]
    if rel.empty:
        return None
    cells = rel.drop_duplicates(["task", "subtask", "arch"])
    order = {task: index for index, task in enumerate(task_order(cells["task"]))}
    cells = cells.assign(order=cells["task"].map(order)).sort_values(["order", "arch", "subtask"])
    names = label(cells["task"].map(task_label), label(cells["arch"], cells["subtask"]), sep=" ")
    rows = list(names + " (" + cells["metric"].astype(str) + ")")
    values = pd.DataFrame({"fp32": cells["fp_mean"].to_numpy()}, index=rows)
    std = pd.DataFrame({"fp32": cells["fp_std"].to_numpy()}, index=rows)
    counts = pd.DataFrame({"fp32": cells["fp_n"].to_numpy()}, index=rows)
    return TrackResult(
        key="fp32",
        title="FP32 baselines: absolute value of each cell's metric (%)",
        values=values,
        std=std,
        counts=counts,
        experiment=experiment,
        has_om=False,
    )
