"""BiBERT's binarized attention and word embedding (Qin et al., ICLR 2022).

Bi-attention replaces softmax attention in every binarized BERT (BiBench binarizes BERT with
it for every algorithm so that training converges at all): the BERT architectures declare
both modules as replacements (``BinarizePolicy.replacements``) that ``binarize`` applies for
any algorithm. Following BiBERT's code
(htqin/BiBERT ``transformer/modeling_quant.py``), per head:

    S = sign(Q)·sign(K)ᵀ/√d + mask      (mask: 0 for tokens, -10000 for padding)
    A = 1[dropout(S) > 0]               (dropout on the scores, before the indicator)
    context = A·sign(V)

sign uses the clip straight-through estimator. The indicator's backward is BiBERT's clipped
STE: the gradient passes where |S| < 1 (strictly: with d = 64, S = ±1 happens exactly),
so Q and K learn through the attention weights. The official BiBench copy of this function
returns None from the indicator's backward, so Q and K get no gradient through A (only V
does): an official bug, not followed here.

The word embedding is binarized per row as BiBERT does: mean|w_r| · sign(w_r − mean(w_r)),
the scale detached, clip-STE through the centring and not scaled by mean|w_r|.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .base import BinaryModule, Shape, numel
from .estimators import binary_sign, pass_within_unit, sign_clip_ste


class _PositiveIndicator(torch.autograd.Function):
    """1[s > 0] forward; backward passes the gradient where |s| < 1 (BiBERT's clipped STE)."""

    @staticmethod
    def forward(ctx, scores: Tensor) -> Tensor:
        ctx.save_for_backward(scores)
        return (scores > 0).to(scores.dtype)

    @staticmethod
    def backward(ctx, grad: Tensor) -> Tensor:
        (scores,) = ctx.saved_tensors
        # one fused kernel; it passes min < s < max, i.e. strictly |s| < 1
        return torch.ops.aten.hardtanh_backward(grad, scores, -1.0, 1.0)


def positive_indicator(scores: Tensor) -> Tensor:
    """Boolean attention weights 1[S > 0] with the clipped-STE backward."""
    return _PositiveIndicator.apply(scores)


class BiAttention(BinaryModule, nn.Module):
    """Bi-attention core: same inputs and output as ``DotProductAttention`` (Q, K, V of shape
    (B, heads, T, d) and the additive padding bias), no weights.

    Both matmuls are binary: sign(Q)·sign(K)ᵀ is ±1 by ±1, A·sign(V) is {0, 1} by ±1.
    """

    def __init__(self, head_size: int, dropout: float) -> None:
        super().__init__()
        self.head_size = head_size
        self.dropout = nn.Dropout(dropout)

    def forward(self, query: Tensor, key: Tensor, value: Tensor, bias: Tensor) -> Tensor:
        # integer dot products first, then the scale: exact zeros stay zero (A = 0 there)
        scores = torch.matmul(sign_clip_ste(query), sign_clip_ste(key).mT)
        scores = scores.div_(math.sqrt(self.head_size)).add_(bias)
        weights = positive_indicator(self.dropout(scores))
        return torch.matmul(weights, sign_clip_ste(value))

    @classmethod
    def from_float(cls, module: nn.Module) -> BiAttention:
        """Bi-attention with the head size and dropout rate of a softmax attention core
        (BERT's ``DotProductAttention``: ``head_size`` and a ``dropout`` module)."""
        return cls(module.head_size, module.dropout.p).train(module.training)


class _ScaledSign(torch.autograd.Function):
    """scale · sign(x) forward; clip-STE backward *not* multiplied by the scale.

    BiBERT writes the binarized embedding as b.detach() - clamp(x).detach() + clamp(x), so
    the scale (~mean|w|, a few hundredths) shapes the value but not the gradient.
    """

    @staticmethod
    def forward(ctx, x: Tensor, scale: Tensor) -> Tensor:
        ctx.save_for_backward(x)
        return binary_sign(x).mul_(scale)

    @staticmethod
    def backward(ctx, grad: Tensor) -> tuple[Tensor, None]:
        (x,) = ctx.saved_tensors
        return pass_within_unit(grad, x), None


def binarize_rows(weight: Tensor) -> Tensor:
    """mean|w_r| · sign(w_r − mean(w_r)) per row (last dim), BiBERT's gradient: clip-STE
    through the centring, unscaled."""
    scale = weight.detach().abs().mean(-1, keepdim=True)
    return _ScaledSign.apply(weight - weight.mean(-1, keepdim=True), scale)


class BinaryEmbedding(BinaryModule, nn.Embedding):
    """BiBERT's binarized word embedding.

    Rows are looked up first and binarized after: every statistic is per row, so this equals
    binarizing the whole table (as BiBERT does) in value and gradient, at the cost of the
    batch's rows rather than the vocabulary's.
    """

    def forward(self, input: Tensor) -> Tensor:
        rows = F.embedding(
            input,
            self.weight,
            self.padding_idx,
            self.max_norm,
            self.norm_type,
            self.scale_grad_by_freq,
            self.sparse,
        )
        return binarize_rows(rows)

    def extra_inference_params(self) -> dict[str, int]:
        return {"alpha": self.num_embeddings}

    def extra_inference_flops(self, input_shape: Shape, output_shape: Shape) -> int:
        """One multiply per output element by its row's scale."""
        return numel(output_shape)

    @classmethod
    def from_float(cls, module: nn.Module) -> BinaryEmbedding:
        """A binarized copy of an ``nn.Embedding`` (same table, padding row and options)."""
        if not isinstance(module, nn.Embedding):
            raise TypeError(f"expected an nn.Embedding, got {type(module).__name__}")
        new = cls(
            module.num_embeddings,
            module.embedding_dim,
            padding_idx=module.padding_idx,
            max_norm=module.max_norm,
            norm_type=module.norm_type,
            scale_grad_by_freq=module.scale_grad_by_freq,
            sparse=module.sparse,
            device=module.weight.device,
            dtype=module.weight.dtype,
        )
        with torch.no_grad():
            new.weight.copy_(module.weight)
        new.weight.requires_grad_(module.weight.requires_grad)
        return new.train(module.training)
