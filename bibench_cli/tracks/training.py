"""Training-consumption track (paper eq. 6) over the runs of the ``sensitivity`` experiment.

Per (task, arch) pair and algorithm: Sensitivity = 100 std(A_fp32) / std(A_bi) with the sample
standard deviation pooled over every optimizer x lr x scheduler x seed run (a flat spread over
settings is what makes an algorithm easy to tune), and Time cost = 100 mean(T_fp32) / mean(T_bi).
Rows average the pairs; OM_train is the quadratic mean of the two rows.
"""

from __future__ import annotations

import pandas as pd

from bibench_cli.tracks.cells import one_recipe
from bibench_cli.tracks.common import (
    FP32,
    SENSITIVITY,
    Footnote,
    TrackResult,
    build_track,
    is_clean,
    item_list,
    label,
)

PAIR = ["task", "arch"]
SETTINGS = ("optimizer", "lr scale", "scheduler")


def _grid_text(row: pd.Series) -> str:
    return f"{row['epochs']:g} epochs, batch {row['batch_size']:g}"


def sensitivity_runs(frame: pd.DataFrame) -> tuple[pd.DataFrame, list[Footnote]]:
    """The clean sensitivity runs of one grid per (task, arch, algo): the settings it sweeps
    (optimizer, lr, scheduler, seed) pooled, everything else (epochs, batch) equal."""
    sens = frame[(frame["experiment"] == SENSITIVITY) & is_clean(frame)]
    grid = sens["epochs"].astype(str) + "/" + sens["batch_size"].astype(str)
    return one_recipe(sens.assign(recipe_id=grid), [*PAIR, "algo"], describe=_grid_text)


def consumption(sens: pd.DataFrame) -> pd.DataFrame:
    """Per (task, arch, algo): pooled accuracy std, run count and mean training time, with the
    FP32 pair's as ``fp_*``."""
    stats = sens.groupby(PAIR + ["algo"], sort=False).agg(
        acc_std=("value", "std"), n=("value", "size"), time=("train_time_s", "mean")
    )
    stats = stats.reset_index()
    fp = stats[stats["algo"] == FP32].drop(columns="algo").add_prefix("fp_")
    fp = fp.rename(columns={f"fp_{k}": k for k in PAIR})
    return stats[stats["algo"] != FP32].merge(fp, on=PAIR, how="left")


def training(frame: pd.DataFrame, experiment: str) -> TrackResult | None:
    """Rows Sensitivity and Time Cost (mean over (task, arch) pairs); OM_train (eq. 6), from
    the ``sensitivity`` experiment."""
    if experiment != SENSITIVITY:
        return None
    sens, grid_notes = sensitivity_runs(frame)
    pairs = consumption(sens)
    if pairs.empty:
        return None
    item = label(pairs["task"], pairs["arch"])
    spread = pairs["acc_std"] > 0
    sensitivity = (100.0 * pairs["fp_acc_std"] / pairs["acc_std"]).where(spread)
    time = 100.0 * pairs["fp_time"] / pairs["time"]
    long = pd.concat(
        [
            pd.DataFrame({"row": "Sensitivity", "item": item, "algo": pairs["algo"],
                          "value": sensitivity}),
            pd.DataFrame({"row": "Time Cost", "item": item, "algo": pairs["algo"],
                          "value": time}),
        ],
        ignore_index=True,
    ).assign(std=0.0)  # fmt: skip
    notes = list(grid_notes)
    if no_fp := list(item[pairs["fp_n"].isna()].unique()):
        notes.append(Footnote(None, None, f"no FP32 sensitivity runs for {item_list(no_fp)}"))
    undefined = pairs[pairs["fp_n"].notna() & (~spread | (pairs["fp_n"] < 2))]
    for algo, rows in undefined.groupby("algo", sort=False):
        notes.append(
            Footnote(
                "Sensitivity",
                algo,
                f"{algo}: std undefined (fewer than 2 runs or no spread) on "
                f"{item_list(list(label(rows['task'], rows['arch'])))}",
            )
        )
    return build_track(
        "train",
        "Training Consumption: 100 · std(A_fp32) / std(A_bi) and 100 · T_fp32 / T_bi (%)",
        long,
        ["Sensitivity", "Time Cost"],
        ("OM_train", "components"),
        "(task, arch) pairs",
        fixed=True,
        notes=notes,
        experiment=experiment,
    )


def setting_accuracy(frame: pd.DataFrame) -> pd.DataFrame:
    """Mean and std of accuracy per (setting, choice, algo) over the sensitivity runs, for the
    paper's Figure 2. The lr scale is the one each run asked for (``optim.lr_scale``)."""
    sens, _ = sensitivity_runs(frame)
    if sens.empty:
        return pd.DataFrame(columns=["setting", "choice", "algo", "mean", "std"])
    scale = sens["lr_scale"]
    label = scale.map(lambda s: "n/a" if pd.isna(s) else f"{s:g}x")
    choices = ((sens["optimizer"], 0.0), (label, scale), (sens["scheduler"], 0.0))
    long = pd.concat(
        [
            sens.assign(setting=name, choice=choice, rank=rank)
            for name, (choice, rank) in zip(SETTINGS, choices, strict=True)
        ],
        ignore_index=True,
    ).sort_values(["rank", "choice"], kind="stable")  # lr scales in numeric order
    stats = long.groupby(["setting", "choice", "algo"], sort=False)["value"].agg(["mean", "std"])
    return stats.reset_index()
