"""Weight scaling statistics (Table 6, "Statistics by Channel / by Layer").

Both are detached, as in the official code and Bi-Real's magnitude-aware gradient: the
weight gradient flows through the sign estimator only, multiplied by the scale.
"""

from __future__ import annotations

from torch import Tensor


def channel_mean_abs(w: Tensor) -> Tensor:
    """mean|w| per output channel, shaped (C_out, 1, ...) to broadcast against ``w``."""
    return w.detach().abs().mean(dim=tuple(range(1, w.dim())), keepdim=True)


def layer_mean_abs(w: Tensor) -> Tensor:
    """mean|w| over the whole layer (a 0-d tensor)."""
    return w.detach().abs().mean()
