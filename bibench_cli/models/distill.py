"""Distillation losses for binarized BERT: the official prediction loss and BiBERT's DMD.

Both follow the authors' code (htqin/BiBERT ``quant_task_glue.py``; BiBench's
``DistillationClassifier`` has the same prediction loss and no DMD):

- prediction: soft cross-entropy to the full-precision teacher's logits plus 0.5 × the
  cross-entropy to the labels; for regression (one output, STS-B) the MSE to the teacher's
  output alone (BiBench has no regression task). The soft cross-entropy is averaged over the
  batch *and* the classes (the official ``.mean()`` of the element-wise product), i.e. 1/C of
  the textbook per-example sum; kept, since the 0.5 weight was tuned against it.
- direction-matching distillation (DMD): for each student layer, the query, key and value
  similarity matrices X·Xᵀ (per head, all tokens, padding included) and the layer's hidden
  states are each divided by their Frobenius norm over the whole batch, and the Frobenius
  norm of the student-teacher difference is added up. BiBERT's code compares hidden states
  directly (normalised, not as similarity matrices) and includes the embedding output; the
  1/√d on X·Xᵀ cancels in the normalisation and is omitted. Its code also zeroes entries
  <= -100, a leftover for masked attention scores: similarity matrices carry no mask, so it
  is omitted too.

With L_t = k·L_s teacher layers, student layer i (0-based) is matched to teacher layer
k·i + k − 1 for Q, K, V, and hidden state i (0 = embeddings) to teacher hidden state k·i.
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor

from bibench_cli.models.bert import BertInternals

GROUND_TRUTH_WEIGHT = 0.5


def soft_cross_entropy(student_logits: Tensor, teacher_logits: Tensor) -> Tensor:
    """mean over batch and classes of −softmax(teacher)·log_softmax(student)."""
    teacher = F.softmax(teacher_logits.detach(), dim=-1)
    return (-teacher * F.log_softmax(student_logits, dim=-1)).mean()


def prediction_distillation_loss(
    student_logits: Tensor, teacher_logits: Tensor, labels: Tensor
) -> Tensor:
    """The official loss on the outputs (see module docstring); one output = regression."""
    if student_logits.shape[-1] == 1:
        return F.mse_loss(student_logits, teacher_logits.detach())
    soft = soft_cross_entropy(student_logits, teacher_logits)
    return soft + GROUND_TRUTH_WEIGHT * F.cross_entropy(student_logits, labels)


def normalized_distance(student: Tensor, teacher: Tensor) -> Tensor:
    """‖S/‖S‖ − T/‖T‖‖ with Frobenius norms over whole tensors (BiBERT's ``att_loss_r2b``)."""
    if student.shape != teacher.shape:
        raise ValueError(
            f"student and teacher tensors differ in shape: {tuple(student.shape)} vs "
            f"{tuple(teacher.shape)} (DMD needs equal hidden sizes and head counts)"
        )
    teacher = teacher.detach()
    return (student / student.norm() - teacher / teacher.norm()).norm()


def _similarity(x: Tensor) -> Tensor:
    return x @ x.mT


def direction_matching_losses(student: BertInternals, teacher: BertInternals) -> dict[str, Tensor]:
    """BiBERT's DMD terms ``query``, ``key``, ``value`` and ``hidden``, each summed over
    the matched layers; the DMD loss is their sum."""
    student_layers, teacher_layers = len(student.qkv), len(teacher.qkv)
    if student_layers == 0 or teacher_layers % student_layers:
        raise ValueError(
            f"teacher layers ({teacher_layers}) must be a multiple of student layers "
            f"({student_layers})"
        )
    step = teacher_layers // student_layers
    matched = [teacher.qkv[step * i + step - 1] for i in range(student_layers)]
    terms = {}
    for field in ("query", "key", "value"):
        terms[field] = sum(
            normalized_distance(_similarity(getattr(s, field)), _similarity(getattr(t, field)))
            for s, t in zip(student.qkv, matched, strict=True)
        )
    terms["hidden"] = sum(
        normalized_distance(hidden, teacher.hidden_states[step * i])
        for i, hidden in enumerate(student.hidden_states)
    )
    return terms
