"""Structured schema of a bibench run, registered in Hydra's ConfigStore.

Every YAML group in ``conf/`` is merged onto these dataclasses, so a mistyped key or a
value of the wrong type fails at composition, before any work, with Hydra's one-line error.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

from omegaconf import MISSING, OmegaConf

from bibench_cli.catalog import experiments_root
from bibench_cli.runs.identity import run_dir_for, run_subdir


@dataclass
class AlgoConf:
    name: str = MISSING
    description: str = ""


@dataclass
class ArchConf:
    name: str = MISSING
    family: str = "cnn"
    description: str = ""
    checkpoint: str | None = None  # pretrained start of the FP32 run (a local file or folder)
    params: dict[str, Any] = field(default_factory=dict)  # the builder's own options


@dataclass
class RecipeEntry:
    """One training regime of a task (paper section 4): optimizer, lr and scheduler."""

    optim: str = MISSING
    lr: float = MISSING
    weight_decay: float = 0.0
    momentum: float | None = None
    nesterov: bool | None = None
    sched: str = "cosine"
    warmup: float = 0.0  # fraction of training with linear warm-up


@dataclass
class RecipeConf:
    fp32: RecipeEntry = field(default_factory=RecipeEntry)
    binary: RecipeEntry = field(default_factory=RecipeEntry)


@dataclass
class TaskConf:
    name: str = MISSING
    subtask: str = ""
    description: str = ""
    epochs: int = MISSING
    batch_size: int = MISSING
    data: dict[str, Any] = field(default_factory=dict)  # the datamodule's own options
    # per-subtask settings the task's YAML interpolates, e.g.
    # epochs: ${task.per_subtask.${task.subtask}.epochs} (GLUE's recipes differ by subtask)
    per_subtask: dict[str, Any] = field(default_factory=dict)
    # per-architecture settings a task YAML interpolates, e.g.
    # lr: ${oc.select:task.per_arch.${arch.name}.lr,0.01} (the detectors' recipes differ)
    per_arch: dict[str, Any] = field(default_factory=dict)
    recipe: RecipeConf = field(default_factory=RecipeConf)


@dataclass
class OptimConf:
    name: str = "auto"
    description: str = ""
    lr: float | None = None
    lr_scale: float = 1.0
    weight_decay: float | None = None
    momentum: float | None = None
    nesterov: bool | None = None


@dataclass
class SchedConf:
    name: str = "auto"
    description: str = ""
    milestones: list[float] = field(default_factory=lambda: [0.5, 0.75])
    gamma: float = 0.1
    warmup: float | None = None  # fraction of training with linear warm-up; null: the recipe's


@dataclass
class TrainerConf:
    description: str = ""
    accelerator: str = "cpu"
    devices: Any = 1
    strategy: str = "auto"
    precision: str = "32-true"
    max_epochs: int = MISSING
    max_steps: int | None = None  # iteration-based training (GLUE); None: epochs decide
    # int = number of batches, float = fraction (Lightning's convention), null = all
    limit_train_batches: Any = None
    limit_val_batches: Any = None
    limit_test_batches: Any = None
    gradient_clip_val: float | None = None
    log_every_n_steps: int = 10
    deterministic: bool = False
    # torch intra-op threads; None: the cores available, divided among the joblib
    # launcher's parallel jobs. Results are deterministic per thread count.
    threads: int | None = None


@dataclass
class LoggerConf:
    name: str = "csv"
    description: str = ""
    tracking_uri: str | None = None


class InitMode(str, Enum):
    fp32 = "fp32"
    scratch = "scratch"


@dataclass
class InitConf:
    mode: InitMode = InitMode.fp32
    checkpoint: str | None = None


@dataclass
class DataConf:
    root: str = "data"
    download: bool = False
    num_workers: int = 0


@dataclass
class PolicyConf:
    keep: list[str] = field(default_factory=list)  # extra fnmatch patterns kept full precision
    # fnmatch patterns binarized even where the architecture keeps them (a detector's heads)
    binarize: list[str] = field(default_factory=list)


@dataclass
class EvalConf:
    corruptions: bool = False  # evaluate the finished model on every corruption x severity
    corruption_source: str = "auto"  # auto | cifar10c (official release) | generated
    corruption_seed: int = 0  # same corrupted images for every model compared


@dataclass
class PathsConf:
    outputs: str = "outputs"


@dataclass
class BibenchConfig:
    algo: AlgoConf = field(default_factory=AlgoConf)
    arch: ArchConf = field(default_factory=ArchConf)
    task: TaskConf = field(default_factory=TaskConf)
    optim: OptimConf = field(default_factory=OptimConf)
    sched: SchedConf = field(default_factory=SchedConf)
    trainer: TrainerConf = field(default_factory=TrainerConf)
    logger: LoggerConf = field(default_factory=LoggerConf)
    init: InitConf = field(default_factory=InitConf)
    data: DataConf = field(default_factory=DataConf)
    policy: PolicyConf = field(default_factory=PolicyConf)
    eval: EvalConf = field(default_factory=EvalConf)
    paths: PathsConf = field(default_factory=PathsConf)
    experiment: str = "default"
    seed: int = 0
    # binarized runs of tasks that distil (GLUE): kd (soft targets + 0.5 CE, the official
    # code), dmd (BiBERT's direction matching) or none
    distill: str = "kd"
    force: bool = False  # re-run even when a completed record exists
    resume: bool = True  # continue a killed run from its last.ckpt
    retry_failed: bool = True  # re-run a failed/diverged run (sweeps default to false)


def _expose_sweeper_plugin() -> None:
    """Let Hydra's plugin scan see ``hydra_plugins.bibench_sweeper`` in an editable install.

    A wheel puts it in site-packages/hydra_plugins, where Hydra looks; an editable install maps
    it through an import hook that ``pkgutil.walk_packages`` cannot list, so add its folder to
    the namespace package's path.
    """
    import importlib.util

    import hydra_plugins

    spec = importlib.util.find_spec("hydra_plugins.bibench_sweeper")
    if spec is not None and spec.origin is not None:
        folder = str(Path(spec.origin).parent.parent)
        if folder not in list(hydra_plugins.__path__):
            hydra_plugins.__path__.append(folder)


def register_plugin_algorithms(store) -> None:
    """``algo=<name>`` for algorithms other packages register as ``bibench.algorithms`` entry
    points (their code is imported only when a run uses them)."""
    from bibench_cli.catalog import plugin_algorithms

    for name, description in plugin_algorithms().items():
        store.store(group="algo", name=name, node={"name": name, "description": description})


def register_configs() -> None:
    """Register the schema, the named experiments and the run-directory resolvers (idempotent).

    Experiments live in the top-level ``experiments/`` folder (shipped as
    ``bibench_cli.experiments``) and are stored as the ``experiment`` config group.
    """
    from hydra.core.config_store import ConfigStore

    _expose_sweeper_plugin()
    store = ConfigStore.instance()
    store.store(name="bibench_schema", node=BibenchConfig)
    for path in sorted(experiments_root().glob("*.yaml")):
        store.store(
            group="experiment", name=path.stem, node=OmegaConf.load(path), package="_global_"
        )
    register_plugin_algorithms(store)
    resolvers = {
        "bibench_run_dir": lambda *, _root_: str(run_dir_for(_root_)),
        "bibench_run_subdir": lambda *, _root_: run_subdir(_root_),
    }
    for name, resolver in resolvers.items():
        if not OmegaConf.has_resolver(name):
            OmegaConf.register_new_resolver(name, resolver, use_cache=False)
