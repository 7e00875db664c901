"""GLUE metric sets, as the task builds them for a run, against hand-worked values."""

from __future__ import annotations

import math

import pytest
import torch
from sklearn.metrics import matthews_corrcoef
from torchmetrics import MetricCollection

from bibench_cli.data.glue import GLUE_TASKS, glue_task
from bibench_cli.models.inputs import TaskShape, TokenInput
from bibench_cli.tasks import get_task

# 5 binary examples as logits; argmax predictions [1, 1, 0, 1, 0], labels [1, 0, 0, 1, 1]:
# TP = 2, FP = 1, TN = 1, FN = 1.
LOGITS = torch.tensor([[0.1, 0.9], [0.3, 0.7], [2.0, -1.0], [-1.0, 1.0], [0.6, 0.4]])
LABELS = torch.tensor([1, 0, 0, 1, 1])


def _metrics(task):
    """The run's metric collection for ``task`` (what ``TaskModule`` builds)."""
    shape = TaskShape(TokenInput(8), {"num_labels": glue_task(task).num_labels})
    specs = get_task("glue").metrics_for(task)
    return MetricCollection({m.name: m.build(shape) for m in specs})


def _scores(task, outputs, labels, batches=1):
    metrics = _metrics(task)
    for out, lab in zip(outputs.chunk(batches), labels.chunk(batches), strict=True):
        metrics.update(out, lab)
    return {name: value.item() for name, value in metrics.compute().items()}


def test_every_task_has_its_metrics_primary_first():
    spec = get_task("glue")
    names = {task: tuple(m.name for m in spec.metrics_for(task)) for task in GLUE_TASKS}
    assert names["cola"] == ("mcc",)
    assert names["stsb"] == ("pearson", "spearman")
    assert names["mrpc"] == names["qqp"] == ("acc", "f1")
    assert {names[t] for t in ("sst2", "mnli", "qnli", "rte", "wnli")} == {("acc",)}


def test_accuracy_and_f1_by_hand():
    """acc = 3/5; precision 2/3, recall 2/3: F1 = 2/3. Two update calls, same result."""
    scores = _scores("mrpc", LOGITS, LABELS, batches=2)
    assert list(scores) == ["acc", "f1"]
    assert scores["acc"] == pytest.approx(0.6) and scores["f1"] == pytest.approx(2 / 3)


def test_mcc_by_hand():
    """(TP·TN − FP·FN) / √((TP+FP)(TP+FN)(TN+FP)(TN+FN)) = (2 − 1) / √(3·3·2·2) = 1/6."""
    assert _scores("cola", LOGITS, LABELS) == {"mcc": pytest.approx(1 / 6)}


@pytest.mark.parametrize(
    ("predictions", "labels"),
    [
        ([0, 0, 0, 0, 0], [1, 0, 0, 1, 1]),  # one class predicted: 0 (torchmetrics: -0.18)
        ([1, 1, 1, 1, 1], [1, 0, 0, 1, 1]),
        ([1, 1, 0], [1, 1, 0]),  # perfect: 1
        ([0, 0, 1], [1, 1, 0]),  # all wrong: -1
        ([1, 1], [1, 1]),  # one class in labels and predictions: 0
        ([0, 1, 1, 0, 1, 0, 0, 1], [0, 1, 0, 0, 1, 1, 0, 0]),
    ],
)
def test_mcc_matches_scikit_learn_in_degenerate_cases(predictions, labels):
    logits = torch.nn.functional.one_hot(torch.tensor(predictions), 2).float()
    expected = matthews_corrcoef(labels, predictions)
    assert _scores("cola", logits, torch.tensor(labels))["mcc"] == pytest.approx(expected)


def test_three_class_accuracy():
    logits = torch.eye(3)[[0, 1, 2, 2]]
    assert _scores("mnli", logits, torch.tensor([0, 1, 1, 2])) == {"acc": 0.75}


def test_pearson_and_spearman_by_hand():
    """x = [1, 2, 3, 5], y = [1, 2, 4, 3]: Pearson 4.5 / √(8.75·5); ranks [1, 2, 3, 4] vs
    [1, 2, 4, 3]: Spearman 1 − 6·2 / (4·15) = 0.8. The model's (N, 1) output is flattened."""
    outputs = torch.tensor([[1.0], [2.0], [3.0], [5.0]])
    scores = _scores("stsb", outputs, torch.tensor([1.0, 2.0, 4.0, 3.0]))
    assert list(scores) == ["pearson", "spearman"]
    assert scores["pearson"] == pytest.approx(4.5 / math.sqrt(8.75 * 5), abs=1e-6)
    assert scores["spearman"] == pytest.approx(0.8, abs=1e-6)


def test_reset_starts_over():
    metrics = _metrics("sst2")
    metrics.update(LOGITS, LABELS)
    metrics.reset()
    metrics.update(LOGITS[:1], LABELS[:1])
    assert metrics.compute()["acc"].item() == 1.0
