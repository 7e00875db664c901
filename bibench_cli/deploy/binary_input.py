"""The ±1 input of a deployed binary layer: the sign, then padding with −1.

Both are autograd Functions only for their ONNX ``symbolic``, which fixes the exported ops:

- the sign maps x >= 0 to +1 and x < 0 to −1, the training convention (paper Eq. 12,
  ``binary_sign``); ONNX ``Sign`` maps 0 to 0, a third value, so the standard export is
  ``Where(Less(x, 0), −1, +1)``. For OpenVINO it is ``org.openvinotoolkit::FakeQuantize``
  with levels = 2 and outputs −1/+1, the pattern its CPU plugin turns, with the ±1
  convolution after it, into an xnor-popcount BinaryConvolution. FakeQuantize gives the
  high output above the midpoint of [in_low, in_high]. Measured: in_low = in_high gives NaN;
  ranges of 1e-12 and narrower give wrong outputs once the plugin folds the preceding
  BatchNorm into the binarization; and the midpoint must sit closer to 0 than the near-zero
  activations residual adds produce (−3.6e-7 occurs in a 16×16 ResNet-20): ±1e-6 sends
  exact zeros (common when BN is still the identity) to −1, [−1e-6, 0] sends −3.6e-7 to +1.
  Hence in_high = h = 2^-10, in_low = −h − 2^-30: the threshold is −2^-31, 0 and −0 go to
  +1 as in training, and only negatives above −4.7e-10 differ. The plugin converts only a
  FakeQuantize with a single consumer and merges identical ones, so two binary layers
  reading the same tensor (a block's conv1 and its 1×1 downsample) get distinct h.
  Not used: OpenVINO's own binarization (outputs 0/1, in_low = in_high; x > t written
  straight as packed bits, then 2·conv(b, W) − conv(1, W)) skips the float-to-bit Reorder
  that follows this FakeQuantize (42% of a binarized ResNet-18's time: 4.1× instead of 3.1×
  end to end at one thread), but OpenVINO 2026.4 computes it wrongly once it fuses a
  residual Add and the binarization into one BinaryConvolution, and its (Σw)/2 constants
  turn exact zeros into ±1 ulp (measured).
- the −1 padding is one ``Pad(mode=constant, value=−1)`` with constant pads (torch's
  ``constant_pad_nd`` exports as a dozen shape ops), the form daBNN's converter recognises
  in front of a ±1 convolution.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.autograd import Function

from bibench_cli.binarize.estimators import binary_sign

FAKE_QUANTIZE_HALF_RANGE = 2.0**-10  # FakeQuantize range ≈ [−h, h] (made distinct per layer)
TIE_BREAK = 2.0**-30  # in_low = −h − TIE_BREAK: the threshold is −2^-31, so 0 → +1
OPENVINO_DOMAIN = "org.openvinotoolkit"


def _constant(g, value: list[float] | float, dtype: torch.dtype = torch.float32):
    return g.op("Constant", value_t=torch.tensor(value, dtype=dtype))


class _Sign(Function):
    @staticmethod
    def forward(ctx, x: Tensor, half_range: float | None) -> Tensor:
        return binary_sign(x)

    @staticmethod
    def symbolic(g, x, half_range: float | None):
        if half_range is not None:
            bounds = (-half_range - TIE_BREAK, half_range, -1.0, 1.0)
            out = g.op(
                f"{OPENVINO_DOMAIN}::FakeQuantize",
                x,
                *map(lambda v: _constant(g, v), bounds),
                levels_i=2,
            )
            out.setType(x.type())
            return out
        return g.op(
            "Where", g.op("Less", x, _constant(g, 0.0)), _constant(g, -1.0), _constant(g, 1.0)
        )


class _PadMinusOne(Function):
    @staticmethod
    def forward(ctx, x: Tensor, pads: tuple[int, ...]) -> Tensor:
        return F.pad(x, pads, value=-1.0)

    @staticmethod
    def symbolic(g, x, pads: tuple[int, ...]):
        return g.op("Pad", x, _constant(g, onnx_pads(pads), torch.int64), _constant(g, -1.0))


def onnx_pads(pads: tuple[int, ...]) -> list[int]:
    """torch's F.pad order (last dim first, (begin, end) pairs) as ONNX Pad's (all begins
    from the first dim, then all ends), with no padding on the batch and channel dims."""
    pairs = [(pads[i], pads[i + 1]) for i in range(0, len(pads), 2)][::-1]
    return [0, 0, *(b for b, _ in pairs), 0, 0, *(e for _, e in pairs)]


def binarize(x: Tensor, *, fake_quantize_range: float | None = None) -> Tensor:
    """±1 with 0 → +1; exported as Where(Less), or as an OpenVINO FakeQuantize over
    [−fake_quantize_range, +fake_quantize_range]."""
    return _Sign.apply(x, fake_quantize_range)


def fake_quantize_ranges(count: int) -> list[float]:
    """``count`` distinct half-ranges, from FAKE_QUANTIZE_HALF_RANGE up in steps of 2^-8 of
    it (exact in float32, as is each in_low)."""
    return [FAKE_QUANTIZE_HALF_RANGE * (1 + index * 2.0**-8) for index in range(count)]


def pad_minus_one(x: Tensor, pads: tuple[int, ...]) -> Tensor:
    """``F.pad(x, pads, value=-1)``, exported as one ONNX Pad."""
    return _PadMinusOne.apply(x, tuple(pads))
