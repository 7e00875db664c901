"""PNG figures for ``bibench report --plots`` (matplotlib, Agg backend: no display needed).

Imported only when plots are asked for, so the report itself never pays matplotlib's import.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from bibench_cli.report.tables import algo_name
from bibench_cli.tracks import TrackResult, setting_accuracy
from bibench_cli.tracks.common import SENSITIVITY, algo_order
from bibench_cli.tracks.training import SETTINGS


def _save(fig: plt.Figure, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=120, bbox_inches="tight")  # rotated labels and colour-bar titles fit
    plt.close(fig)
    return path


def sensitivity_figure(frame: pd.DataFrame, path: Path) -> Path | None:
    """Paper Figure 2: accuracy per algorithm under each optimizer, lr scale and scheduler."""
    stats = setting_accuracy(frame)
    if stats.empty:
        return None
    algos = ["fp32", *algo_order(stats["algo"])]
    algos = [a for a in algos if a in set(stats["algo"])]
    fig, axes = plt.subplots(1, len(SETTINGS), figsize=(5 * len(SETTINGS), 4), sharey=True)
    for ax, setting in zip(axes, SETTINGS, strict=True):
        part = stats[stats["setting"] == setting]
        choices = list(part["choice"].unique())  # in setting_accuracy's order
        width = 0.8 / len(choices)
        for i, choice in enumerate(choices):
            bars = part[part["choice"] == choice].set_index("algo").reindex(algos)
            ax.bar(np.arange(len(algos)) + i * width, bars["mean"], width,
                   yerr=bars["std"].fillna(0), label=choice, capsize=2)  # fmt: skip
        ax.set_xticks(np.arange(len(algos)) + 0.4 - width / 2)
        ax.set_xticklabels([algo_name(a) for a in algos], rotation=45, ha="right")
        ax.set_title(setting)
        ax.legend(fontsize="small")
    axes[0].set_ylabel(f"accuracy (%), {SENSITIVITY} runs")
    return _save(fig, path)


def om_bars(track: TrackResult, path: Path) -> Path:
    """The track's OM per algorithm as bars (missing OMs left as gaps)."""
    om = track.values.loc[track.om_row]
    fig, ax = plt.subplots(figsize=(1 + 0.8 * len(om), 3.5))
    ax.bar([algo_name(a) for a in om.index], om.to_numpy(dtype=float), color="tab:blue")
    ax.set_ylabel(track.om_row)
    ax.set_title(track.title)
    ax.tick_params(axis="x", rotation=45)
    return _save(fig, path)


def heatmap(track: TrackResult, path: Path) -> Path:
    """The track's rows (e.g. relative accuracy per task) x algorithms, missing cells blank."""
    table = track.values.drop(index=track.om_row)
    table.index = [str(row).split(" (")[0] for row in table.index]  # the task, not its metrics
    fig, ax = plt.subplots(figsize=(1.5 + 0.9 * table.shape[1], 1 + 0.5 * table.shape[0]))
    image = ax.imshow(np.ma.masked_invalid(table.to_numpy(dtype=float)), cmap="RdYlGn")
    ax.set_xticks(range(table.shape[1]), [algo_name(a) for a in table.columns], rotation=45)
    ax.set_yticks(range(table.shape[0]), table.index)
    for (i, j), value in np.ndenumerate(table.to_numpy(dtype=float)):
        if not np.isnan(value):
            ax.text(j, i, f"{value:.1f}", ha="center", va="center", fontsize=8)
    fig.colorbar(image, ax=ax, label=f"{track.key} (%)")
    ax.set_title(track.title, fontsize="small")
    return _save(fig, path)


def write_plots(frame: pd.DataFrame, tracks: list[TrackResult], out: Path) -> list[Path]:
    """Every figure there is data for, as PNGs in ``out`` (one per experiment where the
    report has several); returns their paths. ``frame``: the runs the tables used."""
    out.mkdir(parents=True, exist_ok=True)
    several = len({track.experiment for track in tracks}) > 1

    def name(stem: str, track: TrackResult) -> Path:
        return out / (f"{stem}_{track.experiment}.png" if several else f"{stem}.png")

    written = [sensitivity_figure(frame, out / "sensitivity.png")]
    written += [om_bars(t, name(f"om_{t.key}", t)) for t in tracks if t.has_om]
    written += [heatmap(t, name("relative_accuracy", t)) for t in tracks if t.key == "task"]
    return [path for path in written if path is not None]
