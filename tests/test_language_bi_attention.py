"""BiBERT's bi-attention and binarized word embedding: hand-worked values and gradients, and
agreement with BiBERT's own (detach-trick) formulation under autograd."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from bibench_cli.binarize import BinarizePolicy, BinaryModule, binarize
from bibench_cli.binarize.bi_attention import BiAttention, BinaryEmbedding
from bibench_cli.models.bert import (
    BINARIZED_MODULES,
    KEEP,
    BertConfig,
    BertForSequenceClassification,
    DotProductAttention,
)

# One head, 3 tokens, d = 4 (√d = 2); the third token is padding. sign(q)·sign(k)ᵀ is
# [[4, -2, 0], [0, 2, 0], [-2, 0, 0]] (masked column aside), so S = [[2, -1, m], [0, 1, m],
# [-1, 0, m]] and A = 1[S > 0] = [[1, 0, 0], [0, 1, 0], [0, 0, 0]].
Q = [[0.5, -0.2, 0.3, 0.1], [-0.4, -0.6, 0.2, -0.3], [0.7, 0.8, -0.1, -0.9]]
K = [[0.2, -0.5, 0.4, 0.3], [-0.3, 0.2, 0.6, -0.4], [0.9, 0.1, -0.2, 0.5]]
V = [[0.3, -0.2, 0.5, -0.1], [-0.4, 0.6, 0.2, 0.8], [5.0, 5.0, 5.0, 5.0]]
BIAS = torch.tensor([0.0, 0.0, -10000.0]).view(1, 1, 1, 3)


def _hand_case():
    return [torch.tensor(x).view(1, 1, 3, 4).requires_grad_() for x in (Q, K, V)]


def test_bi_attention_forward_on_a_hand_built_case():
    q, k, v = _hand_case()
    out = BiAttention(head_size=4, dropout=0.1).eval()(q, k, v, BIAS)
    expected = [[1, -1, 1, -1], [-1, 1, 1, 1], [0, 0, 0, 0]]  # rows sign(v0), sign(v1), none
    assert out.view(3, 4).tolist() == expected


def test_bi_attention_gradients_reach_query_and_key():
    """L = Σ context ⊙ W with W rows [1, 2, 3, 4]: ∂L/∂A = W·sign(V)ᵀ = -2 (column 0), 8
    (column 1). Only |S| < 1 passes (entries (1, 0) and (2, 1), both S = 0; S = ±1 does
    not), so ∂L/∂S = -2 at (1, 0) and 8 at (2, 1); ∂S/∂sign(q) = sign(k)/2 and vice versa."""
    q, k, v = _hand_case()
    out = BiAttention(head_size=4, dropout=0.0)(q, k, v, BIAS)
    (out * torch.tensor([1.0, 2.0, 3.0, 4.0])).sum().backward()
    assert q.grad.view(3, 4).tolist() == [[0, 0, 0, 0], [-1, 1, -1, -1], [-4, 4, 4, -4]]
    assert k.grad.view(3, 4).tolist() == [[1, 1, -1, 1], [4, 4, -4, -4], [0, 0, 0, 0]]
    # ∂L/∂sign(V) = Aᵀ·W; clip-STE zeroes the padded value (|v| = 5 > 1)
    assert v.grad.view(3, 4).tolist() == [[1, 2, 3, 4], [1, 2, 3, 4], [0, 0, 0, 0]]


def _bibert_attention(q, k, v, bias, p, training):
    """BiBERT's maths with its detach trick: values of sign / 1[S > 0], gradients of the
    clamps (autograd, independent of our autograd.Functions)."""

    def ste(x, value):
        clipped = x.clamp(-1, 1)
        return clipped + (value - clipped).detach()

    scores = ste(q, torch.sign(q)) @ ste(k, torch.sign(k)).mT / math.sqrt(q.shape[-1]) + bias
    scores = F.dropout(scores, p, training)
    return ste(scores, (scores > 0).to(scores.dtype)) @ ste(v, torch.sign(v))


@pytest.mark.parametrize(("p", "training"), [(0.0, False), (0.3, True)])
def test_bi_attention_matches_bibert_formulation_under_autograd(p, training):
    """d = 6: S = (even integer)/√6 is never ±1, where the clamp's and BiBERT's strict
    window differ; dropout (same seed) acts on the scores, before the indicator."""
    g = torch.Generator().manual_seed(0)
    shape = (2, 3, 5, 6)
    inputs = [torch.randn(shape, generator=g) * 1.5 for _ in range(3)]
    weights = torch.randn(shape, generator=g)
    bias = torch.zeros(2, 1, 1, 5)
    bias[1, ..., 3:] = -10000.0
    grads = []
    for fn in (
        lambda q, k, v: BiAttention(6, p).train(training)(q, k, v, bias),
        lambda q, k, v: _bibert_attention(q, k, v, bias, p, training),
    ):
        leaves = [x.clone().requires_grad_() for x in inputs]
        torch.manual_seed(1)
        out = fn(*leaves)
        (out * weights).sum().backward()
        grads.append((out.detach(), *(x.grad for x in leaves)))
    for ours, reference in zip(*grads, strict=True):
        torch.testing.assert_close(ours, reference, atol=1e-6, rtol=0)
    assert all(g.abs().sum() > 0 for g in grads[0][1:])


def test_bi_attention_from_float():
    core = DotProductAttention(head_size=8, dropout=0.2).eval()
    bi = BiAttention.from_float(core)
    assert (bi.head_size, bi.dropout.p, bi.training) == (8, 0.2, False)
    assert isinstance(bi, BinaryModule) and list(bi.state_dict()) == []


@pytest.mark.parametrize("algo", ["fp32", "xnor"])
def test_binarize_swaps_attention_and_word_embedding_for_every_binarized_algorithm(algo):
    """The architecture's declared replacements apply whatever the algorithm, and not to a
    run that binarizes nothing."""
    config = BertConfig(
        vocab_size=20,
        hidden_size=8,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=16,
        max_position_embeddings=8,
    )
    model = BertForSequenceClassification(config, num_labels=2)
    keys = set(model.state_dict())
    policy = BinarizePolicy(False, False, declared=KEEP, replacements=BINARIZED_MODULES)
    report = binarize(model, algo, policy)
    cores = [model.bert.encoder.layer[i].attention.self.core for i in range(2)]
    if algo == "fp32":
        assert report.replaced == [] and all(type(c) is DotProductAttention for c in cores)
        return
    assert [(d.name, d.new_type) for d in report.replaced] == [
        ("bert.embeddings.word_embeddings", "BinaryEmbedding"),
        ("bert.encoder.layer.0.attention.self.core", "BiAttention"),
        ("bert.encoder.layer.1.attention.self.core", "BiAttention"),
    ]
    assert all(isinstance(core, BiAttention) for core in cores)
    assert type(model.bert.embeddings.position_embeddings) is torch.nn.Embedding
    assert set(model.state_dict()) == keys  # FP32 checkpoints still load as they are
    model(torch.randint(0, 20, (2, 5))).sum().backward()
    assert model.bert.encoder.layer[0].attention.self.query.weight.grad.abs().sum() > 0


def test_binary_embedding_forward_on_hand_rows():
    """Row [1, 2, 3, 6]: mean 3, signs of [-2, -1, 0, 3] = [-1, -1, +1, +1] (sign(0) = +1),
    scale mean|w| = 3. Row [-0.5, 0.1, 0.2, 0.2]: mean 0, scale 0.25. Padding row 0 stays 0."""
    table = torch.nn.Embedding(3, 4, padding_idx=0)
    with torch.no_grad():
        table.weight.copy_(torch.tensor([[0.0] * 4, [1.0, 2, 3, 6], [-0.5, 0.1, 0.2, 0.2]]))
    out = BinaryEmbedding.from_float(table)(torch.tensor([[1, 2, 0]]))
    expected = [[-3.0, -3, 3, 3], [-0.25, 0.25, 0.25, 0.25], [0.0, 0, 0, 0]]
    torch.testing.assert_close(out[0], torch.tensor(expected))


def test_binary_embedding_matches_bibert_full_table_under_autograd():
    """BiBERT binarizes the whole table, then looks rows up; we look up first. Values and
    gradients (clip-STE through the centring, |w - mean| > 1 clipped, padding row none)
    must agree."""
    g = torch.Generator().manual_seed(0)
    weight = torch.randn(7, 5, generator=g) * 1.5
    ids = torch.tensor([[1, 3, 3, 0], [6, 2, 1, 0]])
    upstream = torch.randn(2, 4, 5, generator=g)

    reference_weight = weight.clone().requires_grad_()
    scale = reference_weight.abs().mean(1, keepdim=True).detach()
    centred = reference_weight - reference_weight.mean(1, keepdim=True)
    clipped = centred.clamp(-1, 1)
    binary = (scale * torch.sign(centred)).detach() - clipped.detach() + clipped
    reference = F.embedding(ids, binary, padding_idx=0)
    (reference * upstream).sum().backward()

    table = torch.nn.Embedding(7, 5, padding_idx=0)
    with torch.no_grad():
        table.weight.copy_(weight)
    ours = BinaryEmbedding.from_float(table)
    out = ours(ids)
    (out * upstream).sum().backward()

    torch.testing.assert_close(out, reference.detach())
    torch.testing.assert_close(ours.weight.grad, reference_weight.grad)
    assert (centred.abs() > 1).any()  # the clip is exercised
    assert ours.weight.grad[0].abs().sum() == 0 and ours.weight.grad[4].abs().sum() == 0
    assert ours.extra_inference_params() == {"alpha": 7}
