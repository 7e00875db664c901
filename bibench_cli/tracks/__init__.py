"""Pure track metrics (paper section 3) over a results frame (``tracks.common.COLUMNS``).

Each track function takes the frame of every collected evaluation and returns a
:class:`TrackResult` (metric rows x algorithms, the OM row last, footnotes), or None when the
frame holds nothing for that track. No file or CLI knowledge lives here.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from bibench_cli.tracks.accuracy import (
    architecture,
    fp32_baselines,
    learning_task,
    relative_accuracy,
)
from bibench_cli.tracks.cells import experiment_order, usable
from bibench_cli.tracks.common import COLUMNS, Footnote, TrackResult, quadratic_mean
from bibench_cli.tracks.efficiency import complexity, inference
from bibench_cli.tracks.robustness import robustness
from bibench_cli.tracks.training import setting_accuracy, training

# Table 2 (accuracy, with the FP32 values it divides by) then Table 3 (efficiency), in the
# paper's order.
TRACKS: tuple[Callable[[pd.DataFrame, str], TrackResult | None], ...] = (
    learning_task,
    fp32_baselines,
    architecture,
    robustness,
    training,
    complexity,
    inference,
)


def all_tracks(
    frame: pd.DataFrame, experiment: str | None = None, include_debug: bool = False
) -> list[TrackResult]:
    """Every track that has inputs in ``frame``, experiment by experiment (or only
    ``experiment``), in the paper's order. Runs are selected as ``tracks.cells`` says."""
    frame = usable(frame, include_debug)
    names = [experiment] if experiment is not None else experiment_order(frame)
    return [
        result for name in names for track in TRACKS if (result := track(frame, name)) is not None
    ]


__all__ = [
    "COLUMNS",
    "TRACKS",
    "Footnote",
    "TrackResult",
    "all_tracks",
    "usable",
    "experiment_order",
    "fp32_baselines",
    "architecture",
    "complexity",
    "inference",
    "learning_task",
    "quadratic_mean",
    "relative_accuracy",
    "robustness",
    "setting_accuracy",
    "training",
]
