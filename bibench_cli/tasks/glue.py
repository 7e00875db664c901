"""GLUE: BERT sentence(-pair) classification, or regression with one output (STS-B), and the
distillation of binarized runs from their FP32 teacher.

The FP32 run fine-tunes the pretrained checkpoint on the subtask with the task loss
(cross-entropy, MSE for STS-B). A binarized run starts from that FP32 run and, unless
``distill=none``, learns from it as BiBERT's code does (``models.distill``): ``kd`` the soft
cross-entropy to the teacher's logits + 0.5 × cross-entropy (MSE to the teacher's output for
STS-B), ``dmd`` that plus the direction-matching terms on Q, K, V and the hidden states.

Metrics per subtask come from ``metrics.glue`` (MCC for CoLA, Pearson for STS-B, F1 beside
accuracy for MRPC and QQP). MNLI is tested on its matched and mismatched dev sets and
reports both as subtask results (``mnli-m``, ``mnli-mm``), the paper's two GLUE entries.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torchmetrics import MetricCollection

from bibench_cli.data.glue import (
    DEMO_DEV_SIZE,
    DEMO_TRAIN_SIZE,
    DEMO_WORDS,
    GLUE_FOLDER,
    GLUE_TASKS,
    SPECIAL_TOKENS,
    glue_task,
    write_demo_glue,
)
from bibench_cli.data.glue_datamodule import GlueDataModule
from bibench_cli.metrics.glue import GLUE_METRIC_NAMES, glue_metric
from bibench_cli.models.bert import BertConfig, BertModel, save_bert_checkpoint
from bibench_cli.models.distill import direction_matching_losses, prediction_distillation_loss
from bibench_cli.models.inputs import TaskShape, TokenInput
from bibench_cli.tasks.module import TaskModule
from bibench_cli.tasks.spec import DISTILL, Metric, TaskSpec

Batch = Sequence[torch.Tensor]  # input_ids, token_type_ids, attention_mask, labels
LABELS = {
    "acc": "accuracy",
    "mcc": "Matthews correlation",
    "f1": "F1 of the positive class",
    "pearson": "Pearson correlation",
    "spearman": "Spearman correlation",
}


def _metric(name: str) -> Metric:
    return Metric(name, lambda shape: glue_metric(name, shape.outputs["num_labels"]), LABELS[name])


METRICS = {name: _metric(name) for name in LABELS}
SUBTASK_METRICS = {
    subtask: tuple(METRICS[name] for name in names) for subtask, names in GLUE_METRIC_NAMES.items()
}


def glue_shape(data: Mapping[str, Any], datamodule: Any = None, *, subtask: str) -> TaskShape:
    """Sequences of ``task.data.max_seq_length`` tokens (the tokenizer's vocabulary once the
    data is read) and ``num_labels`` outputs: the subtask's classes, 1 for STS-B."""
    vocab_size = datamodule.vocab_size if datamodule is not None else None
    tokens = TokenInput(int(data["max_seq_length"]), vocab_size)
    return TaskShape(tokens, {"num_labels": glue_task(subtask).num_labels})


class GlueModule(TaskModule):
    """Task loss or distillation (see the module docstring); several test sets (MNLI) each
    get their own metrics and subtask result."""

    def __init__(
        self,
        model: torch.nn.Module,
        recipe: Mapping[str, Any],
        metrics: Sequence[Metric],
        shape: TaskShape,
        teacher: torch.nn.Module | None = None,
        distill: str = "none",
    ) -> None:
        super().__init__(model, recipe, metrics, shape, teacher, distill)
        self.metric_specs = tuple(metrics)
        self.regression = shape.outputs["num_labels"] == 1
        # metrics of the test sets after the first, by name; built when testing starts
        self.more_tests: dict[str, MetricCollection] = {}

    def task_loss(self, outputs: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        if self.regression:
            return F.mse_loss(outputs.reshape(-1), labels)
        return F.cross_entropy(outputs, labels)

    def training_loss(self, batch: Batch) -> torch.Tensor:
        *inputs, labels = batch
        if self.distill == "dmd":
            outputs, internals = self.model.forward_with_internals(*inputs)
            with torch.no_grad():
                targets, teacher_internals = self.teacher.forward_with_internals(*inputs)
            terms = direction_matching_losses(internals, teacher_internals)
            return prediction_distillation_loss(outputs, targets, labels) + sum(terms.values())
        outputs = self.model(*inputs)
        if self.distill == "kd":
            with torch.no_grad():
                targets = self.teacher(*inputs)
            return prediction_distillation_loss(outputs, targets, labels)
        return self.task_loss(outputs, labels)

    def _score(self, batch: Batch, metrics: MetricCollection, loss_key: str) -> None:
        *inputs, labels = batch
        outputs = self.model(*inputs)
        self.log(loss_key, self.task_loss(outputs, labels), prog_bar=loss_key == "val/loss")
        metrics.update(outputs, labels)

    def evaluate(self, batch: Batch, split: str) -> None:
        self._score(batch, self.metrics[split], f"{split}/loss")

    def test_sets(self) -> tuple[str, ...]:
        """The datamodule's test-set names (one unless MNLI)."""
        return tuple(getattr(self.trainer.datamodule, "test_sets", ()))

    def on_test_start(self) -> None:
        self.more_tests = {
            name: MetricCollection({m.name: m.build(self.shape) for m in self.metric_specs}).to(
                self.device
            )
            for name in self.test_sets()[1:]
        }

    def test_step(self, batch: Batch, batch_idx: int, dataloader_idx: int = 0) -> None:
        if dataloader_idx == 0:
            self.evaluate(batch, "test")
            return
        name = self.test_sets()[dataloader_idx]
        self._score(batch, self.more_tests[name], f"test/{name}/loss")

    def on_test_epoch_end(self) -> None:
        values = self.log_metrics("test")
        names = self.test_sets()
        if len(names) < 2:
            return
        primary = self.metric_specs[0].name
        self.subtask_results[names[0]] = values[f"test/{primary}"]
        for name, metrics in self.more_tests.items():
            more = {f"test/{name}/{key}": 100.0 * float(v) for key, v in metrics.compute().items()}
            metrics.reset()
            self.log_dict(more)
            self.computed["test"].update(more)
            self.subtask_results[name] = more[f"test/{name}/{primary}"]


DEMO_CHECKPOINT = "bert_demo"  # the demo checkpoint's folder under the demo data root
#: The demo checkpoint's size: two small layers, enough positions for every BiBERT recipe.
DEMO_CONFIG = BertConfig(
    vocab_size=len(SPECIAL_TOKENS) + len(DEMO_WORDS),
    hidden_size=32,
    num_hidden_layers=2,
    num_attention_heads=4,
    intermediate_size=64,
    max_position_embeddings=128,
)


def write_demo_checkpoint(directory: str | Path, *, seed: int = 0) -> Path:
    """A tiny randomly initialised BERT (no task head) whose vocabulary covers the demo
    words, in the Hugging Face layout (config.json, model.safetensors, vocab.txt)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    vocab = directory / "vocab.txt"
    vocab.write_text("\n".join(SPECIAL_TOKENS + DEMO_WORDS) + "\n", encoding="utf-8")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = BertModel(DEMO_CONFIG)
    return save_bert_checkpoint(model, directory, vocab)


def write_glue_demo(root: str | Path, seed: int = 0) -> str:
    """``bibench data demo --task glue``: demo GLUE in ``root/glue_data`` and the tiny random
    BERT whose vocabulary tokenises it in ``root/bert_demo``; one line saying so."""
    root = Path(root)
    write_demo_glue(root / GLUE_FOLDER, seed=seed)
    checkpoint = write_demo_checkpoint(root / DEMO_CHECKPOINT, seed=seed)
    return (
        f"GLUE layout, all {len(GLUE_TASKS)} tasks ({DEMO_TRAIN_SIZE} training / "
        f"{DEMO_DEV_SIZE} dev rows each) in "
        f"{root / GLUE_FOLDER}; a random {DEMO_CONFIG.num_hidden_layers}-layer BERT with its "
        f"vocabulary in {checkpoint}: train with arch.checkpoint={checkpoint}"
    )


TASKS = (
    TaskSpec(
        "glue",
        GlueDataModule,
        GlueModule,
        (METRICS["acc"],),
        glue_shape,
        demo=write_glue_demo,
        capabilities=frozenset({DISTILL}),
        subtasks=tuple(GLUE_TASKS),
        subtask_metrics=SUBTASK_METRICS,
    ),
)
