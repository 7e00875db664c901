"""Pure track metrics (paper section 3) over a results frame (``tracks.common.COLUMNS``).

Each track function takes the frame of every collected evaluation and returns a
:class:`TrackResult` (metric rows x algorithms, the OM row last, footnotes), or None when the
frame holds nothing for that track. No file or CLI knowledge lives here.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from bibench_cli.tracks.accuracy import architecture, learning_task, relative_accuracy
from bibench_cli.tracks.common import COLUMNS, Footnote, TrackResult, quadratic_mean
from bibench_cli.tracks.efficiency import complexity, inference
from bibench_cli.tracks.robustness import robustness
from bibench_cli.tracks.training import setting_accuracy, training

# Table 2 (accuracy) then Table 3 (efficiency), in the paper's order.
TRACKS: tuple[Callable[[pd.DataFrame], TrackResult | None], ...] = (
    learning_task,
    architecture,
    robustness,
    training,
    complexity,
    inference,
)


def all_tracks(frame: pd.DataFrame) -> list[TrackResult]:
    """Every track that has inputs in ``frame``, in the paper's order."""
    return [result for track in TRACKS if (result := track(frame)) is not None]


__all__ = [
    "COLUMNS",
    "TRACKS",
    "Footnote",
    "TrackResult",
    "all_tracks",
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
