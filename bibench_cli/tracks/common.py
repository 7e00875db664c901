"""What every track shares: the results-frame schema, run selection, seed averaging, the
coverage-checked mean and the quadratic mean (paper section 3).

Each track is a chain of "mean over items, then quadratic mean over groups"; keeping those two
steps here means every track reports missing cells and short OMs the same way.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from bibench_cli.errors import item_list

FP32 = "fp32"
COMPLETED = "completed"
SENSITIVITY = "sensitivity"  # the training-consumption track's experiment

# The paper's column order (Table 2/3); plug-in algorithms follow, sorted by name.
ALGO_NAMES = {
    "bnn": "BNN",
    "xnor": "XNOR",
    "dorefa": "DoReFa",
    "bireal": "Bi-Real",
    "xnorpp": "XNOR++",
    "reactnet": "ReActNet",
    "recu": "ReCU",
    "fda": "FDA",
}
# The paper's row order (Table 2); other tasks follow, sorted by name.
TASK_NAMES = {
    "cifar10": "CIFAR10",
    "imagenet": "ImageNet",
    "voc07": "VOC07",
    "coco17": "COCO17",
    "modelnet40": "ModelNet40",
    "shapenet": "ShapeNet",
    "glue": "GLUE",
    "speechcommands": "SpeechCom.",
}

# One row per evaluation of one run: its own (or one per subtask result), one per corruption
# at one severity, one per inference measurement (library/device/threads, no ``value``).
# ``value`` is the run's primary metric (named by ``metric``); ``clean_value`` on a corruption
# row is the clean accuracy from the same evaluation path; ``infer_rule`` on an inference row
# is the Table 4 rule of a model no binary library runs (measured for correctness only).
TEXT_COLUMNS = (
    "source", "experiment", "algo", "arch", "task", "subtask", "family", "optimizer",
    "scheduler", "status", "corruption", "severity", "infer_device", "infer_rule", "metric",
    "run_id", "recipe_id", "pair_id", "baseline_id", "finished_at",
)  # fmt: skip
NUMBER_COLUMNS = (
    "lr", "lr_scale", "seed", "epochs", "batch_size", "debug", "value", "clean_value",
    "train_time_s", "r_c", "r_s", "infer_speedup", "infer_compression",
)  # fmt: skip
COLUMNS = TEXT_COLUMNS + NUMBER_COLUMNS
RECIPE = ("optimizer", "lr", "scheduler", "epochs", "batch_size")  # how recipes read in notes


@dataclass(frozen=True)
class Footnote:
    """Why a cell, a row (``algo`` None) or a whole table (``row`` None) is short or missing."""

    row: str | None
    algo: str | None
    text: str


@dataclass(frozen=True)
class TrackResult:
    """One table of one experiment: metric rows (the OM row last, when ``has_om``) x
    algorithm columns; NaN is a missing cell. ``counts`` holds how many runs each cell pooled."""

    key: str
    title: str
    values: pd.DataFrame
    std: pd.DataFrame | None = None  # seed spread, same shape as ``values`` (accuracy tracks)
    footnotes: tuple[Footnote, ...] = ()
    counts: pd.DataFrame | None = None  # runs pooled per cell, same shape as ``values``
    experiment: str = "default"
    has_om: bool = True

    @property
    def om_row(self) -> str | None:
        return str(self.values.index[-1]) if self.has_om else None


def is_clean(frame: pd.DataFrame) -> pd.Series:
    """Rows of a run's own evaluation (not a corruption result, not an inference measurement)."""
    return (frame["corruption"] == "") & (frame["infer_device"] == "")


def empty_frame() -> pd.DataFrame:
    """A results frame with no rows but the right columns and dtypes."""
    frame = pd.DataFrame({name: pd.Series([], dtype=object) for name in TEXT_COLUMNS})
    for name in NUMBER_COLUMNS:
        frame[name] = pd.Series([], dtype=float)
    return frame


def quadratic_mean(values: Iterable[float]) -> float:
    """sqrt(mean(x^2)) over the non-missing values: the paper's OM; NaN when none are left."""
    array = np.asarray([v for v in values if not pd.isna(v)], dtype=float)
    return math.sqrt(float(np.mean(array**2))) if array.size else math.nan


def algo_order(algos: Iterable[str]) -> list[str]:
    """Binarized algorithms in the paper's order, then plug-ins by name; FP32 is never a column."""
    known = [a for a in ALGO_NAMES if a in set(algos)]
    return known + sorted(set(algos) - set(ALGO_NAMES) - {FP32})


def task_label(task: str) -> str:
    return TASK_NAMES.get(task, task)


def task_order(tasks: Iterable[str]) -> list[str]:
    tasks = set(tasks)
    return [t for t in TASK_NAMES if t in tasks] + sorted(tasks - set(TASK_NAMES))


def label(first: pd.Series, *rest: pd.Series, sep: str = "/") -> pd.Series:
    """Row-wise join of ``first`` and the non-empty ``rest``: one readable name per cell."""
    out = first.astype(str)
    for part in rest:
        part = part.astype(str)
        out = out + (sep + part).where(part != "", "")
    return out


def cell_stats(frame: pd.DataFrame, keys: list[str], column: str = "value") -> pd.DataFrame:
    """Mean and sample std (0 for a single run) of ``column`` per cell: seeds averaged first."""
    grouped = frame.groupby(keys, sort=False)[column]
    stats = grouped.agg(["mean", "std"]).reset_index()
    stats["std"] = stats["std"].fillna(0.0)
    return stats


def missing_baseline_notes(long: pd.DataFrame, what: str) -> list[Footnote]:
    """Row notes for items that no algorithm could be scored on (no FP32 reference)."""
    scored = long.groupby(["row", "item"], sort=False)["value"].apply(lambda v: v.notna().any())
    notes = []
    for row, items in scored[~scored].reset_index().groupby("row", sort=False)["item"]:
        notes.append(Footnote(row, None, f"no {what} for {item_list(list(items))}: left out"))
    return notes


def mean_over(
    long: pd.DataFrame, rows: list[str], algos: list[str], items: str
) -> tuple[pd.DataFrame, pd.DataFrame, list[Footnote]]:
    """Per (row, algo) mean of ``value`` over its items, the std propagated as independent
    errors; footnotes name the items an algorithm lacks that another algorithm has in that row
    (``items``: their plural noun).

    ``long`` has columns row, item, algo, value, std; NaN values count as missing items.
    """
    present = long[long["value"].notna()]
    grouped = present.groupby(["row", "algo"], sort=False)
    means = grouped["value"].mean()
    stds = grouped["std"].apply(lambda s: math.sqrt(float((s**2).sum())) / len(s))
    union = present.groupby("row", sort=False)["item"].apply(set)
    notes = []
    for (row, algo), covered in grouped["item"].apply(set).items():
        lacking = union[row] - covered
        if lacking:
            notes.append(
                Footnote(
                    row,
                    algo,
                    f"{algo}: {row} is a mean over {len(covered)} of {len(union[row])} "
                    f"{items} (missing {item_list(list(lacking))})",
                )
            )
    return pivot(means, rows, algos), pivot(stds, rows, algos), notes


def pivot(series: pd.Series, rows: list[str], algos: list[str]) -> pd.DataFrame:
    """A (row, algo)-indexed series as the rows x algorithms table, missing cells NaN."""
    table = series.unstack("algo") if len(series) else pd.DataFrame()
    return table.reindex(index=rows, columns=algos).astype(float)


def with_om(
    values: pd.DataFrame, om_label: str, groups: str, fixed: bool = False
) -> tuple[pd.DataFrame, list[Footnote]]:
    """Append the OM row (quadratic mean of each column's rows) and footnote every OM computed
    over fewer groups than some other algorithm's, or than all rows when the OM's groups are
    ``fixed`` by its definition (the two ratios of eq. 6, 8 and 9)."""
    union = [row for row in values.index if fixed or values.loc[row].notna().any()]
    om = {}
    notes = []
    for algo in values.columns:
        column = values[algo]
        om[algo] = quadratic_mean(column)
        lacking = [row for row in union if pd.isna(column[row])]
        if lacking and column.notna().any():
            notes.append(
                Footnote(
                    om_label,
                    algo,
                    f"{algo}: {om_label} over {len(union) - len(lacking)} of {len(union)} "
                    f"{groups} (missing {item_list(lacking)})",
                )
            )
    table = pd.concat([values, pd.DataFrame([om], index=[om_label])])
    return table.reindex(columns=values.columns), notes


def build_track(
    key: str,
    title: str,
    long: pd.DataFrame,
    rows: list[str],
    om: tuple[str, str],
    items: str,
    *,
    fixed: bool = False,
    keep_std: bool = False,
    notes: Sequence[Footnote] = (),
    algos: Iterable[str] = (),
    experiment: str = "default",
) -> TrackResult:
    """Rows by :func:`mean_over`, the OM row by :func:`with_om`: the shape of every track.
    Columns: the algorithms in ``long`` plus ``algos`` (those whose inputs were all left out).
    ``long`` may carry ``n``, the runs behind each item, summed into the cell counts."""
    algos = algo_order([*long["algo"], *algos])
    values, std, row_notes = mean_over(long, rows, algos, items)
    table, om_notes = with_om(values, *om, fixed=fixed)
    counts = None
    if "n" in long:
        present = long[long["value"].notna()]
        counts = pivot(present.groupby(["row", "algo"], sort=False)["n"].sum(), rows, algos)
        counts = counts.reindex(table.index)
    return TrackResult(
        key=key,
        title=title,
        values=table,
        std=std.reindex(table.index) if keep_std else None,
        footnotes=tuple(dict.fromkeys([*notes, *row_notes, *om_notes])),
        counts=counts,
        experiment=experiment,
    )


def to_long(values: pd.DataFrame, std: pd.DataFrame) -> pd.DataFrame:
    """The inverse of :func:`pivot`: one (row, algo, value, std) line per cell."""
    stacked = pd.DataFrame(
        {"value": values.stack(future_stack=True), "std": std.stack(future_stack=True)}
    )
    return stacked.rename_axis(["row", "algo"]).reset_index()
