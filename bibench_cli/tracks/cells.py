"""Which runs a table cell pools, and which FP32 runs it is compared with.

Every number in a report must be traceable to the runs it came from, so three rules apply
before any metric is computed:

- **One run, one vote.** A run id is counted once per experiment however often its record
  is found; debug runs (``limit_*_batches``: part of the data) are left out unless asked.
- **One recipe per cell.** A cell (task, subtask, arch, algorithm) of an experiment pools the
  seeds of one recipe (``recipe_id``: everything but the seed). Where an experiment holds
  several recipes for a cell, the one with the most runs is kept (ties: the most recently
  finished), and a footnote names the recipes left out. Experiments are reported apart.
- **The baseline is the FP32 run the cell started from.** A fine-tuned run records the run
  id of the FP32 run it started from (``baseline_id``), looked up in every experiment (the
  FP32 run is shared); a run from scratch is compared with the FP32 runs of the same
  request (``pair_id``) in its own experiment, seeds pooled.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd

from bibench_cli.errors import item_list
from bibench_cli.tracks.common import COMPLETED, FP32, SENSITIVITY, Footnote, is_clean

CELL = ["task", "subtask", "arch", "algo"]
ROW = ["subtask", "corruption", "severity", "infer_device"]  # which evaluation a row is


def usable(frame: pd.DataFrame, include_debug: bool = False) -> pd.DataFrame:
    """Completed evaluations, each (experiment, run, evaluation) once; debug runs only when
    ``include_debug``."""
    keep = frame["status"] == COMPLETED
    if not include_debug:
        keep &= frame["debug"].fillna(0) == 0
    return frame[keep].drop_duplicates(["experiment", "run_id", *ROW])


def experiment_order(frame: pd.DataFrame) -> list[str]:
    """The experiments of ``frame``: ``default`` first, the others by name, ``sensitivity``
    (reported by the training-consumption track alone) last."""
    names = set(frame["experiment"])
    first = ["default"] if "default" in names else []
    last = [SENSITIVITY] if SENSITIVITY in names else []
    return first + sorted(names - {"default", SENSITIVITY}) + last


def _recipe_text(row: pd.Series) -> str:
    return (
        f"{row['optimizer'] or '?'} lr {row['lr']:g} {row['scheduler'] or '?'}, "
        f"{row['epochs']:g} epochs, batch {row['batch_size']:g}"
    )


def one_recipe(
    runs: pd.DataFrame, key: list[str], describe: Callable[[pd.Series], str] | None = None
) -> tuple[pd.DataFrame, list[Footnote]]:
    """The rows of one recipe per ``key`` group (most runs, then most recently finished),
    and a footnote per group naming the recipes left out (each described by ``describe``
    applied to one of its rows)."""
    describe = describe or _recipe_text
    if runs.empty:
        return runs, []
    stats = (
        runs.groupby([*key, "recipe_id"], sort=False, dropna=False)
        .agg(n=("run_id", "nunique"), last=("finished_at", "max"))
        .reset_index()
        .sort_values(["n", "last", "recipe_id"], ascending=[False, False, True])
    )
    best = stats.drop_duplicates(key, keep="first")
    left = stats.drop(best.index)
    notes = []
    if not left.empty:
        examples = runs.drop_duplicates("recipe_id").set_index("recipe_id")
        for values, group in left.groupby(key, sort=False, dropna=False):
            chosen = best.merge(group[key].head(1), on=key)["recipe_id"].iloc[0]
            cell = "/".join(str(v) for v in values if v != "")
            dropped = [f"{describe(examples.loc[r])} ({n} runs)" for r, n in
                       zip(group["recipe_id"], group["n"], strict=True)]  # fmt: skip
            notes.append(
                Footnote(
                    None,
                    None,
                    f"{cell}: kept {describe(examples.loc[chosen])}; left out "
                    f"{item_list(dropped)} (several recipes; report one with --experiment "
                    "or give each its own experiment)",
                )
            )
    return runs.merge(best[[*key, "recipe_id"]], on=[*key, "recipe_id"]), notes


def _fp32_rows(frame: pd.DataFrame, experiment: str) -> pd.DataFrame:
    """FP32 evaluations of every experiment, each run id once (its own experiment's record
    preferred, then the most recently finished)."""
    fp = frame[frame["algo"] == FP32].assign(here=lambda f: f["experiment"] == experiment)
    fp = fp.sort_values(["here", "finished_at"], ascending=[False, False])
    return fp.drop_duplicates(["run_id", *ROW])


def with_baselines(
    frame: pd.DataFrame, runs: pd.DataFrame, experiment: str, key: list[str]
) -> pd.DataFrame:
    """Per ``key`` group of binarized ``runs`` (ROW columns included in ``key``): the mean,
    sample std and run count of ``value``, and of the FP32 runs they are compared with
    (``fp_mean``, ``fp_std``, ``fp_n``; NaN where there is none)."""
    stats = (
        runs.groupby(key, sort=False, dropna=False)["value"]
        .agg(mean="mean", std="std", n="size")
        .reset_index()
    )
    stats["std"] = stats["std"].fillna(0.0)
    fp = _fp32_rows(frame, experiment)
    rows = [c for c in ROW if c in key]
    links = runs[[*key, "baseline_id", "pair_id"]].drop_duplicates()
    by_id = links[links["baseline_id"] != ""].merge(
        fp[["run_id", *rows, "value"]], left_on=["baseline_id", *rows], right_on=["run_id", *rows]
    )
    same_experiment = fp[fp["experiment"] == experiment]
    by_pair = links[links["baseline_id"] == ""].merge(
        same_experiment[["run_id", "pair_id", *rows, "value"]], on=["pair_id", *rows]
    )
    linked = pd.concat([by_id, by_pair], ignore_index=True).drop_duplicates([*key, "run_id"])
    base = (
        linked.groupby(key, sort=False, dropna=False)["value"]
        .agg(fp_mean="mean", fp_std="std", fp_n="size")
        .reset_index()
    )
    base["fp_std"] = base["fp_std"].fillna(0.0)
    return stats.merge(base, on=key, how="left")


@dataclass
class Selection:
    """The binarized runs an experiment's accuracy tables pool, with the notes on what the
    recipe rule left out."""

    runs: pd.DataFrame
    notes: list[Footnote] = field(default_factory=list)


def accuracy_runs(frame: pd.DataFrame, experiment: str) -> Selection:
    """Binarized runs of ``experiment`` (one recipe per cell) for the accuracy tracks; their
    corruption rows come along. The sensitivity experiment trains from scratch under many
    settings for the training-consumption track only."""
    if experiment == SENSITIVITY:
        return Selection(frame.iloc[0:0])
    mine = frame[(frame["experiment"] == experiment) & (frame["algo"] != FP32)]
    clean = mine[is_clean(mine)]
    chosen, notes = one_recipe(clean, CELL)
    return Selection(mine[mine["run_id"].isin(set(chosen["run_id"]))], notes)
