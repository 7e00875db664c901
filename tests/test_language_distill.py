"""Prediction distillation and BiBERT's direction-matching distillation on hand-built tensors."""

from __future__ import annotations

import math

import pytest
import torch

from bibench_cli.models.bert import QKV, BertInternals
from bibench_cli.models.distill import (
    direction_matching_losses,
    prediction_distillation_loss,
    soft_cross_entropy,
)


def test_prediction_loss_classification_by_hand():
    """Teacher softmax [3/4, 1/4], student [1/2, 1/2]: −Σ p log q = ln 2, averaged over the 2
    classes (the official .mean()) = ln 2 / 2; plus 0.5 × CE(label 0) = 0.5 ln 2."""
    student = torch.zeros(1, 2, requires_grad=True)
    teacher = torch.tensor([[math.log(3.0), 0.0]], requires_grad=True)
    assert soft_cross_entropy(student, teacher).item() == pytest.approx(math.log(2) / 2)
    loss = prediction_distillation_loss(student, teacher, torch.tensor([0]))
    assert loss.item() == pytest.approx(math.log(2))
    loss.backward()
    assert teacher.grad is None and student.grad is not None


def test_prediction_loss_regression_is_mse_to_the_teacher():
    student = torch.tensor([[1.0], [3.0]])
    teacher = torch.tensor([[2.0], [1.0]])
    labels = torch.tensor([100.0, -100.0])  # not used: BiBERT distils STS-B from the teacher only
    assert prediction_distillation_loss(student, teacher, labels).item() == pytest.approx(2.5)


def _internals(qkv_per_layer, hidden_states):
    return BertInternals(list(hidden_states), [QKV(*t) for t in qkv_per_layer])


def test_direction_matching_by_hand():
    """One head, two tokens, d = 1. Student Q = [1, 0] gives QQᵀ = [[1, 0], [0, 0]], teacher
    Q = [0, 1] gives [[0, 0], [0, 1]]: both have norm 1, the difference √2. K and V are the
    teacher's times 3 (QQᵀ × 9: same direction, 0). Hidden states [1, 0] vs [0, 2]: √2 each."""
    s_q = torch.tensor([1.0, 0.0]).view(1, 1, 2, 1)
    t_q = torch.tensor([0.0, 1.0]).view(1, 1, 2, 1)
    t_kv = torch.tensor([0.5, -2.0]).view(1, 1, 2, 1)
    s_h, t_h = torch.tensor([[[1.0, 0.0]]]), torch.tensor([[[0.0, 2.0]]])
    student = _internals([(s_q, 3 * t_kv, 3 * t_kv)], [s_h, s_h])
    teacher = _internals([(t_q, t_kv, t_kv)], [t_h, t_h])
    terms = direction_matching_losses(student, teacher)
    assert {k: round(v.item(), 6) for k, v in terms.items()} == {
        "query": round(math.sqrt(2), 6),
        "key": 0.0,
        "value": 0.0,
        "hidden": round(2 * math.sqrt(2), 6),
    }


def test_direction_matching_maps_student_layers_to_the_end_of_teacher_blocks():
    """2 student layers, 4 teacher layers: Q, K, V of teacher layers 1 and 3, hidden states
    0, 2, 4 (embeddings included). Equal there, random elsewhere: every term is 0."""
    g = torch.Generator().manual_seed(0)

    def rand(*shape):
        return torch.randn(*shape, generator=g)

    s_qkv = [tuple(rand(2, 3, 5, 4) for _ in range(3)) for _ in range(2)]
    s_hidden = [rand(2, 5, 12) for _ in range(3)]
    t_qkv = [tuple(rand(2, 3, 5, 4) for _ in range(3)) for _ in range(4)]
    t_hidden = [rand(2, 5, 12) for _ in range(5)]
    t_qkv[1], t_qkv[3] = s_qkv
    t_hidden[0], t_hidden[2], t_hidden[4] = s_hidden
    terms = direction_matching_losses(_internals(s_qkv, s_hidden), _internals(t_qkv, t_hidden))
    assert all(value.item() == pytest.approx(0.0, abs=1e-6) for value in terms.values())

    t_qkv[2] = s_qkv[1]  # equal to teacher layer 2 instead of 3: not the matched one
    t_qkv[3] = tuple(rand(2, 3, 5, 4) for _ in range(3))
    terms = direction_matching_losses(_internals(s_qkv, s_hidden), _internals(t_qkv, t_hidden))
    assert terms["query"].item() > 0.1


def test_direction_matching_gradient_reaches_the_student_only():
    g = torch.Generator().manual_seed(1)
    s_q = torch.randn(1, 2, 4, 3, generator=g, requires_grad=True)
    t_q = torch.randn(1, 2, 4, 3, generator=g, requires_grad=True)
    hidden = torch.randn(1, 4, 6, generator=g)
    terms = direction_matching_losses(
        _internals([(s_q, s_q, s_q)], [hidden, hidden]),
        _internals([(t_q, t_q, t_q)], [hidden, hidden]),
    )
    sum(terms.values()).backward()
    assert s_q.grad.abs().sum() > 0 and t_q.grad is None


def test_direction_matching_refuses_incompatible_models():
    one = _internals([(torch.ones(1, 1, 2, 2),) * 3], [torch.ones(1, 2, 4)] * 2)
    three = _internals([(torch.ones(1, 1, 2, 2),) * 3] * 3, [torch.ones(1, 2, 4)] * 4)
    two = _internals([(torch.ones(1, 1, 2, 2),) * 3] * 2, [torch.ones(1, 2, 4)] * 3)
    with pytest.raises(ValueError, match=r"teacher layers \(3\) must be a multiple"):
        direction_matching_losses(two, three)
    wide = _internals([(torch.ones(1, 1, 2, 2),) * 3], [torch.ones(1, 2, 8)] * 2)
    with pytest.raises(ValueError, match="equal hidden sizes"):
        direction_matching_losses(one, wide)
