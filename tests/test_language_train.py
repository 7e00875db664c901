"""Every registered algorithm trains a tiny binarized BERT on the demo SST-2 (BiBench's flow:
FP32 fine-tuning, then a binarized student started from it and distilled from it)."""

from __future__ import annotations

import json

import pytest
import torch
import torch.nn.functional as F

from bibench_cli.binarize import (
    BinarizePolicy,
    binarize,
    list_algorithms,
    load_fp32_state_dict,
    set_progress,
)
from bibench_cli.data.glue import (
    encode_glue,
    load_tokenizer,
    read_glue,
    write_demo_glue,
)
from bibench_cli.models.bert import BINARIZED_MODULES, KEEP, load_bert_classifier
from bibench_cli.models.distill import direction_matching_losses, prediction_distillation_loss
from bibench_cli.tasks.glue import write_demo_checkpoint

BINARIZED = [a for a in list_algorithms() if a != "fp32"]


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """Demo SST-2 (32 sentences, one batch) and its checkpoint without dropout, so that each
    run is a deterministic full-batch descent."""
    root = tmp_path_factory.mktemp("demo")
    write_demo_glue(root / "glue", train_size=32, dev_size=8)
    checkpoint = write_demo_checkpoint(root / "checkpoint")
    config = json.loads((checkpoint / "config.json").read_text())
    config.update(hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
    (checkpoint / "config.json").write_text(json.dumps(config))
    encoded = encode_glue(read_glue(root / "glue", "sst2", "train"), load_tokenizer(checkpoint), 24)
    return checkpoint, tuple(encoded[:3]), encoded.labels


@pytest.fixture(scope="module")
def fine_tuning(demo):
    """The 'fp32' algorithm: the demo checkpoint fine-tuned on the demo; its loss curve."""
    checkpoint, inputs, labels = demo
    torch.manual_seed(0)
    model = load_bert_classifier(checkpoint, num_labels=2).model
    losses = _descend(model, 5e-3, 40, lambda: F.cross_entropy(model(*inputs), labels))
    return model.eval(), losses


@pytest.fixture(scope="module")
def teacher(fine_tuning):
    return fine_tuning[0]


def _descend(model, lr, steps, loss_fn):
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    losses = []
    for step in range(steps):
        set_progress(model, step / steps)
        optimizer.zero_grad()
        loss = loss_fn()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


def _student(checkpoint, algo, inputs, teacher):
    model = load_bert_classifier(checkpoint, num_labels=2).model
    policy = BinarizePolicy(False, False, declared=KEEP, replacements=BINARIZED_MODULES)
    binarize(model, algo, policy, example_input=inputs)
    load_fp32_state_dict(model, teacher.state_dict())
    return model


def test_fp32_fine_tuning_loss_falls(fine_tuning):
    losses = fine_tuning[1]
    assert losses[-1] < 0.05 < 0.6 < losses[0]


@pytest.mark.parametrize("algo", BINARIZED)
def test_binarized_student_distils_with_falling_loss(demo, teacher, algo):
    """BiBERT-like rate (1e-4). BNN, XNOR++ and ReCU barely move on BERT (the paper's GLUE
    scores for them are near chance) but their loss must still go down."""
    checkpoint, inputs, labels = demo
    torch.manual_seed(0)
    student = _student(checkpoint, algo, inputs, teacher)
    with torch.no_grad():
        targets = teacher(*inputs)
    losses = _descend(
        student, 1e-4, 20, lambda: prediction_distillation_loss(student(*inputs), targets, labels)
    )
    assert losses[-1] < losses[0]
    without_gradient = [n for n, p in student.named_parameters() if p.grad is None]
    assert without_gradient == []  # binarized layers, embedding and extra parameters too


def test_direction_matching_distillation_trains_the_student(demo, teacher):
    checkpoint, inputs, labels = demo
    torch.manual_seed(0)
    student = _student(checkpoint, "reactnet", inputs, teacher)
    with torch.no_grad():
        targets, teacher_internals = teacher.forward_with_internals(*inputs)

    def loss():
        logits, internals = student.forward_with_internals(*inputs)
        terms = direction_matching_losses(internals, teacher_internals)
        return prediction_distillation_loss(logits, targets, labels) + sum(terms.values())

    losses = _descend(student, 1e-3, 15, loss)
    assert losses[-1] < 0.75 * losses[0]
