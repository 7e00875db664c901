"""Theoretical complexity (paper section 3.2 ⑤, eq. 7-8): the ratios from a model's counts.

The counts themselves (parameters and FLOPs by precision, layer by layer) come from
``binarize.summary``; these are the paper's formulas over them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bibench_cli.tracks.common import quadratic_mean

FLOAT_BITS = 32
BINARY_OP_COST = 1 / 64  # FLOPs per binary MAC on a 64-bit CPU (paper section 3.2 ⑤)


def compression_ratio(params_fp32: int, bits_binary: int, params_float: int) -> float:
    """r_c of eq. 7: |M| / (binarized weights/32 + |M̂|), the binarized part in bits so a
    1-bit weight costs 1/32 of a 32-bit number (|M| − |M̂| there, before any extras)."""
    return params_fp32 / (bits_binary / FLOAT_BITS + params_float)


def speedup_ratio(flops_fp32: int, macs_binary: int, flops_float: int) -> float:
    """r_s of eq. 7: FLOPs_M / (binary MACs/64 + FLOPs_M̂) (FLOPs_M − FLOPs_M̂ there,
    before any extras)."""
    return flops_fp32 / (macs_binary * BINARY_OP_COST + flops_float)


def om_comp(r_c: float, r_s: float) -> float:
    """OM_comp of eq. 8 for one model: the quadratic mean of the two ratios."""
    return quadratic_mean([r_c, r_s])


@dataclass(frozen=True)
class Ratios:
    r_c: float
    r_s: float

    @property
    def om_comp(self) -> float:
        return om_comp(self.r_c, self.r_s)


def ratios(count: Any) -> Ratios:
    """r_c and r_s of a ``binarize.summary.Complexity`` (its totals, eq. 7)."""
    return Ratios(
        compression_ratio(count.params_fp32, count.bits_binary, count.params_float),
        speedup_ratio(count.flops_fp32, count.macs_binary, count.flops_float),
    )


def complexity_fields(count: Any) -> dict[str, Any]:
    """What a run record stores of a ``binarize.summary.Complexity``: ``params``,
    ``flops``, ``r_c`` and ``r_s``."""
    return {
        "params": {
            "fp32_model": count.params_fp32,
            "binary": count.params_binary,
            "float": count.params_float,
            "extra": count.params_extra,
            "size_mb_fp32": count.size_mb_fp32,
            "size_mb_binarized": count.size_mb_binarized,
        },
        "flops": {
            "fp32_model": count.flops_fp32,
            "binary": count.macs_binary,
            "float": count.flops_float,
            "extra": count.extra_flops,
        },
        "r_c": ratios(count).r_c,
        "r_s": ratios(count).r_s,
    }
