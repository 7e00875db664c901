"""Learning tasks: one registered :class:`TaskSpec` per task (datamodule, LightningModule
kind, metrics, input spec, capabilities, demo-data writer), looked up by name.

A new task of an existing kind is an addition: its datamodule, its spec (in the module of its
kind), its YAML, its demo writer and its tests. The engine never names a task.
"""

from __future__ import annotations

from bibench_cli.errors import BibenchError
from bibench_cli.tasks.detection import TASKS as DETECTION_TASKS
from bibench_cli.tasks.glue import TASKS as GLUE_TASKS
from bibench_cli.tasks.images import TASKS as IMAGE_TASKS
from bibench_cli.tasks.points import TASKS as POINT_TASKS
from bibench_cli.tasks.spec import CORRUPTIONS, DISTILL, Metric, TaskOptionError, TaskSpec
from bibench_cli.tasks.speech import TASKS as SPEECH_TASKS

__all__ = [
    "CORRUPTIONS",
    "DISTILL",
    "Metric",
    "TaskOptionError",
    "TaskSpec",
    "UnknownTaskError",
    "get_task",
    "list_tasks",
    "register_task",
]

_REGISTRY: dict[str, TaskSpec] = {}


class UnknownTaskError(BibenchError, ValueError):
    """A task name that is not registered."""


def register_task(spec: TaskSpec) -> TaskSpec:
    if spec.name in _REGISTRY and _REGISTRY[spec.name] is not spec:
        raise ValueError(f"task {spec.name!r} is already registered")
    _REGISTRY[spec.name] = spec
    return spec


def get_task(name: str) -> TaskSpec:
    try:
        return _REGISTRY[name]
    except KeyError:
        raise UnknownTaskError(f"unknown task {name!r}; known: {', '.join(_REGISTRY)}") from None


def list_tasks() -> list[str]:
    """Registered task names, in registration order."""
    return list(_REGISTRY)


for _spec in (*IMAGE_TASKS, *POINT_TASKS, *SPEECH_TASKS, *GLUE_TASKS, *DETECTION_TASKS):
    register_task(_spec)
