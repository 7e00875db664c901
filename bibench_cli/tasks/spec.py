"""What a registered learning task is: everything the engine needs, and nothing it has to
know about the task's modality.

A :class:`TaskSpec` names its datamodule class (built from the shared data options plus the
free ``task.data`` node, whose keys are checked against the class's own constructor), the
LightningModule kind that owns its loss and how a batch reaches the model, its metrics
(primary first, each with its direction), the model shape (input spec and head sizes), its
capabilities and its demo-data writer.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bibench_cli.errors import BibenchError
from bibench_cli.models.inputs import TaskShape

# Options every datamodule may take; the rest of its constructor is ``task.data``.
# ``subtask`` is ``task.subtask``; ``checkpoint`` the run's pretrained start (``arch.checkpoint``,
# None without one), whose vocabulary a text task tokenises with.
SHARED_OPTIONS = ("root", "download", "batch_size", "num_workers", "seed", "subtask", "checkpoint")
CORRUPTIONS = "corruptions"  # capability: test images a corruption benchmark can perturb
DISTILL = "distill"  # capability: a binarized run can distil from its FP32 teacher


class TaskOptionError(BibenchError, ValueError):
    """A ``task.data`` or ``task.subtask`` value the task does not accept."""


@dataclass(frozen=True)
class Metric:
    """One reported metric: its name in records (``test/<name>``), how torchmetrics computes
    it for a task shape, and whether higher is better (the checkpoint monitor's mode)."""

    name: str
    build: Callable[[TaskShape], Any]
    label: str
    higher_is_better: bool = True


@dataclass(frozen=True)
class TaskSpec:
    """A learning task (see the module docstring). ``metrics[0]`` is the primary metric;
    ``subtask_metrics`` overrides them per subtask (GLUE's CoLA reports MCC).
    ``allow_no_subtask``: a task with subtasks also runs without one (ShapeNet's
    all-category model, which reports every category as a subtask result)."""

    name: str
    datamodule: type
    module: type
    metrics: tuple[Metric, ...]
    shape: Callable[[Mapping[str, Any], Any], TaskShape]
    demo: Callable[[Path, int], str] | None = None
    capabilities: frozenset[str] = frozenset()
    subtasks: tuple[str, ...] = ()
    allow_no_subtask: bool = False
    corruption_release: str = ""  # folder under data.root of a published corruption release
    subtask_metrics: Mapping[str, tuple[Metric, ...]] = field(default_factory=dict)

    def metrics_for(self, subtask: str) -> tuple[Metric, ...]:
        return tuple(self.subtask_metrics.get(subtask, self.metrics))

    def data_options(self) -> list[str]:
        """The ``task.data`` keys this task's datamodule takes."""
        parameters = inspect.signature(self.datamodule).parameters
        return [name for name in parameters if name not in SHARED_OPTIONS]

    def downloads(self) -> bool:
        """Whether the datamodule can fetch its dataset (``data.download=true``)."""
        return "download" in inspect.signature(self.datamodule).parameters

    def check_subtask(self, subtask: str) -> None:
        """One line for a ``task.subtask`` the task does not have (checked before anything
        else of the config resolves: a task YAML may interpolate per-subtask settings)."""
        if self.subtasks and subtask not in self.subtasks:
            if not subtask and self.allow_no_subtask:
                return
            empty = " or empty" if self.allow_no_subtask else ""
            raise TaskOptionError(
                f"task {self.name!r} needs task.subtask, one of {', '.join(self.subtasks)}"
                f"{empty}; got {subtask!r}"
            )
        if not self.subtasks and subtask:
            raise TaskOptionError(f"task {self.name!r} has no subtasks; got {subtask!r}")

    def check_options(self, subtask: str, data: Mapping[str, Any]) -> None:
        """One line for an unknown ``task.data`` key or ``task.subtask`` value."""
        accepted = self.data_options()
        unknown = sorted(set(data) - set(accepted))
        if unknown:
            raise TaskOptionError(
                f"unknown task.data option(s) {', '.join(unknown)} for task {self.name!r}; "
                f"accepted: {', '.join(accepted) or 'none'}"
            )
        self.check_subtask(subtask)

    def model_shape(
        self, subtask: str, data: Mapping[str, Any], datamodule: Any = None
    ) -> TaskShape:
        """The model shape of one run: ``shape(data, datamodule)``, with the subtask for shape
        functions that take it (GLUE's head size depends on the subtask)."""
        if "subtask" in inspect.signature(self.shape).parameters:
            return self.shape(data, datamodule, subtask=subtask)
        return self.shape(data, datamodule)

    def build_datamodule(self, data: Mapping[str, Any], **shared: Any) -> Any:
        """The datamodule (nothing read yet): ``shared`` options it does not take (``root``
        for an embedded dataset) are dropped; ``data`` goes through as it is."""
        parameters = inspect.signature(self.datamodule).parameters
        kwargs = {k: v for k, v in shared.items() if k in parameters}
        return self.datamodule(**kwargs, **data)
