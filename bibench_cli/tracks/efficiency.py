"""Theoretical-complexity and hardware-inference tracks (paper eq. 7-9), from what runs record.

The complexity track averages the r_s / r_c each binarized run of an experiment recorded
(counted by ``binarize.summary``, eq. 7 in ``tracks.complexity``) over architectures; the
inference track averages the measured speedup and storage ratios each binarized run recorded
(its deployed model against its FP32 counterpart, timed side by side in one process) over
(arch, task, library/device) cells.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from bibench_cli.tracks.common import (
    FP32,
    SENSITIVITY,
    Footnote,
    TrackResult,
    build_track,
    cell_stats,
    is_clean,
    label,
)

ROWS = ["Speedup", "Compression"]
OM_INFER = "OM_infer"


def _binarized(frame: pd.DataFrame, experiment: str) -> pd.DataFrame:
    if experiment == SENSITIVITY:
        return frame.iloc[0:0]
    return frame[(frame["experiment"] == experiment) & (frame["algo"] != FP32)]


def _track(
    runs: pd.DataFrame, columns: tuple[str, str], item: list[str], key: str, title: str,
    om: str, items: str, experiment: str, notes: Sequence[Footnote] = (),
) -> TrackResult | None:  # fmt: skip
    """Rows and OM of ``runs``; algorithms that only ``notes`` name get a column of "—"."""
    parts = [
        cell_stats(runs[runs[column].notna()], [*item, "algo"], column).assign(row=row)
        for row, column in zip(ROWS, columns, strict=True)
    ]
    long = pd.concat(parts, ignore_index=True)
    if long.empty and not notes:
        return None
    long["item"] = label(*(long[c] for c in item), sep=" ")
    long = long.rename(columns={"mean": "value"})
    return build_track(
        key, title, long, ROWS, (om, "ratios"), items, fixed=True, notes=notes,
        algos=[note.algo for note in notes if note.algo], experiment=experiment,
    )  # fmt: skip


def complexity(frame: pd.DataFrame, experiment: str) -> TrackResult | None:
    """Rows Speedup E(r_s) and Compression E(r_c) over architectures; OM_comp (eq. 8)."""
    runs = _binarized(frame, experiment)
    return _track(
        runs[is_clean(runs)].drop_duplicates("run_id"),  # one row per run: r_c is per run
        ("r_s", "r_c"),
        ["arch"],
        "comp",
        "Theoretical Complexity: FLOPs and size ratios FP32 / binarized, eq. 7 (x)",
        "OM_comp",
        "architectures",
        experiment,
    )


def inference(frame: pd.DataFrame, experiment: str) -> TrackResult | None:
    """Rows Speedup E(T_fp32 / T_bi) and Compression E(S_fp32 / S_bi) over (arch, task,
    library/device) cells; OM_infer (eq. 9).

    A measurement of a model no binary inference library runs (BiBench Table 4: XNOR's
    activation re-scaling, XNOR++'s spatial scales) was taken for correctness only: it feeds
    no mean, and its algorithm's OM_infer carries a footnote naming the rule, so an
    algorithm measured only so shows "—" (the paper's Table 3 shows "False").
    """
    runs = _binarized(frame, experiment)
    measured = runs[runs["infer_device"] != ""]  # one row per run and measurement
    correctness_only = measured[measured["infer_rule"] != ""]
    rules = correctness_only[["algo", "infer_rule"]].drop_duplicates()
    notes = [
        Footnote(
            OM_INFER,
            algo,
            f"{rule}; hence not deployable (BiBench Table 4): measured for correctness only, "
            "left out of the means",
        )
        for algo, rule in rules.itertuples(index=False)
    ]
    return _track(
        measured[measured["infer_rule"] == ""],
        ("infer_speedup", "infer_compression"),
        ["arch", "task", "infer_device"],
        "infer",
        "Hardware Inference: measured T_fp32 / T_bi and S_fp32 / S_bi, eq. 9 (x)",
        OM_INFER,
        "(arch, task, device) cells",
        experiment,
        notes,
    )
