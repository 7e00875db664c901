"""A run's identity, computed once from its composed config: the resolved recipe, its ids and
its directory.

Three ids, each a short sha256 of part of the resolved config:

- ``run_id``: everything that changes what the run computes. Option *names* do not count,
  only what they resolve to: ``optim=auto`` and ``optim=adam`` giving the same optimizer,
  lr and schedule are one run. Bookkeeping (output paths, logger, force/resume flags,
  threads, descriptions, the experiment name) does not count either, so the FP32 run a
  binarized run needs is found whichever experiment trained it.
- ``recipe_id``: ``run_id`` without the seed. The report pools only runs of one recipe
  into a cell.
- ``pair_id``: the recipe as requested, without algorithm, seed and initialisation: the
  key that pairs a binarized run trained from scratch with the FP32 run of the same
  request (``optim=auto`` pairs each with its own task recipe, paper section 4).

Run directories come from the identity, never from timestamps, so a re-run (or a resumed
sweep) finds the record of a finished run. Light on purpose (no torch): Hydra's resolver for
``hydra.run.dir`` calls it while composing.
"""

from __future__ import annotations

import copy
import hashlib
import importlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

FP32 = "fp32"
# Keys that do not change what a run computes.
BOOKKEEPING = (
    ("force",),
    ("resume",),
    ("retry_failed",),
    ("experiment",),
    ("paths",),
    ("logger",),
    ("eval",),
    ("data", "root"),
    ("data", "download"),
    ("data", "num_workers"),
    ("trainer", "log_every_n_steps"),
    ("trainer", "threads"),
    ("arch", "family"),
    ("task", "per_subtask"),  # only what it resolves to (epochs, lr, ...) changes a run
    ("task", "per_arch"),
)
# What the resolved recipe replaces (the requested optimizer/scheduler options).
REQUESTED = (("optim",), ("sched",), ("task", "recipe"))
LIMITS = ("limit_train_batches", "limit_val_batches", "limit_test_batches")
ID_LENGTH = 10


def to_plain(cfg: DictConfig | Mapping[str, Any]) -> dict[str, Any]:
    """The resolved config as plain data, without Hydra's own node."""
    if isinstance(cfg, DictConfig):  # Hydra's node resolves through this very function
        return {
            key: OmegaConf.to_container(cfg[key], resolve=True, enum_to_str=True)
            if OmegaConf.is_config(cfg[key])
            else cfg[key]
            for key in cfg
            if key != "hydra"
        }
    return {key: copy.deepcopy(value) for key, value in cfg.items() if key != "hydra"}


def algorithm_name(name: str) -> str:
    """The registered name of an algorithm given as ``package.module:ATTRIBUTE``."""
    if ":" not in name:
        return name
    module, _, attribute = name.partition(":")
    try:
        return str(getattr(importlib.import_module(module), attribute).name)
    except (ImportError, AttributeError):
        return name  # reported as an unknown algorithm by the run's validation


def resolve_recipe(plain: Mapping[str, Any]) -> dict[str, Any]:
    """Optimizer and scheduler actually used: ``auto`` takes the task's FP32 or binary recipe.

    Settings the chosen optimizer or scheduler ignores are dropped (momentum for Adam,
    milestones for cosine), so they cannot split one run into two ids.
    """
    entry = plain["task"]["recipe"][FP32 if plain["algo"]["name"] == FP32 else "binary"]
    optim, sched = plain["optim"], plain["sched"]
    keys = ("lr", "weight_decay", "momentum", "nesterov")
    if optim["name"] == "auto":
        recipe = {key: entry[key] for key in keys}
        recipe.update({key: optim[key] for key in keys if optim.get(key) is not None})
        recipe["optimizer"] = entry["optim"]
    else:
        recipe = {key: optim[key] for key in keys}
        recipe["optimizer"] = optim["name"]
    recipe["lr"] = float(recipe["lr"]) * float(optim.get("lr_scale", 1.0))
    recipe["weight_decay"] = float(recipe["weight_decay"] or 0.0)
    if recipe["optimizer"] != "sgd":
        recipe.pop("momentum")
        recipe.pop("nesterov")
    recipe["scheduler"] = entry["sched"] if sched["name"] == "auto" else sched["name"]
    warmup = sched.get("warmup")
    recipe["warmup"] = float(entry.get("warmup") or 0.0) if warmup is None else float(warmup)
    if recipe["scheduler"] == "step":
        recipe["milestones"] = [float(m) for m in sched["milestones"]]
        recipe["gamma"] = float(sched["gamma"])
    return recipe


def is_debug(trainer: Mapping[str, Any]) -> bool:
    """Whether the run sees only part of its data: a batch count, or a fraction below 1, in
    any ``limit_*_batches`` (``limit_val_batches=0``, which turns validation off, is not)."""
    for key in LIMITS:
        limit = trainer.get(key)
        if limit is None or (isinstance(limit, float) and limit >= 1.0):
            continue
        if key == "limit_val_batches" and limit == 0:
            continue
        return True
    return False


def _drop(plain: dict[str, Any], path: tuple[str, ...]) -> None:
    node = plain
    for key in path[:-1]:
        node = node.get(key, {})
    if isinstance(node, dict):
        node.pop(path[-1], None)


def _without_descriptions(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _without_descriptions(v) for k, v in node.items() if k != "description"}
    if isinstance(node, list):
        return [_without_descriptions(v) for v in node]
    return node


def _digest(plain: Mapping[str, Any], drop: tuple[tuple[str, ...], ...]) -> str:
    reduced = copy.deepcopy(dict(plain))
    for path in drop:
        _drop(reduced, path)
    blob = json.dumps(_without_descriptions(reduced), sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:ID_LENGTH]


@dataclass(frozen=True)
class RunIdentity:
    """A run's resolved config (``config["recipe"]`` = the optimizer/scheduler used), the
    identity fields its record carries, and its directory below the outputs root."""

    config: dict[str, Any]
    fields: dict[str, Any]

    @property
    def run_id(self) -> str:
        return self.fields["run_id"]

    @property
    def subdir(self) -> str:
        """``<experiment>/<task>[-<subtask>]/<arch>/<algo>/<optim>-lr<lr>-<sched>-e<epochs>
        -s<seed>[-debug]-<run_id>``."""
        f = self.fields
        task = f["task"] + (f"-{f['subtask']}" if f["subtask"] else "")
        leaf = (
            f"{f['optimizer']}-lr{f['lr']:g}-{f['scheduler']}-e{f['epochs']}-s{f['seed']}"
            + ("-debug" if f["debug"] else "")
            + f"-{f['run_id']}"
        )
        return str(Path(f["experiment"], task, f["arch"], f["algo"], leaf))

    @property
    def dir(self) -> Path:
        """Absolute run directory: ``paths.outputs`` joined with :attr:`subdir`."""
        return (Path(self.config["paths"]["outputs"]) / self.subdir).resolve()


def resolve(cfg: DictConfig | Mapping[str, Any]) -> RunIdentity:
    """The identity of the run ``cfg`` describes (pure: the same config, the same ids)."""
    plain = to_plain(cfg)
    plain["algo"]["name"] = algorithm_name(plain["algo"]["name"])
    fp32 = plain["algo"]["name"] == FP32
    if fp32 and not plain["init"].get("checkpoint"):
        plain["init"]["mode"] = "scratch"  # FP32 runs start from scratch whatever init says
    recipe = resolve_recipe(plain)
    computed = {**plain, "recipe": recipe}
    # an FP32 run neither binarizes (policy) nor distils: the same FP32 run serves them all
    ignored = BOOKKEEPING + REQUESTED + ((("policy",), ("distill",)) if fp32 else ())
    run_id = _digest(computed, ignored)
    recipe_id = _digest(computed, (*ignored, ("seed",)))
    pair_id = _digest(
        plain, (*BOOKKEEPING, ("algo",), ("seed",), ("init",), ("policy",), ("distill",))
    )
    fields = {
        "experiment": plain["experiment"],
        "algo": plain["algo"]["name"],
        "arch": plain["arch"]["name"],
        "task": plain["task"]["name"],
        "subtask": plain["task"].get("subtask") or "",
        "family": plain["arch"].get("family", ""),
        "optimizer": recipe["optimizer"],
        "lr": recipe["lr"],
        "lr_scale": float(plain["optim"].get("lr_scale", 1.0)),
        "scheduler": recipe["scheduler"],
        "seed": plain["seed"],
        "epochs": plain["trainer"]["max_epochs"],
        "batch_size": plain["task"]["batch_size"],
        "debug": is_debug(plain["trainer"]),
        "run_id": run_id,
        "recipe_id": recipe_id,
        "pair_id": pair_id,
    }
    return RunIdentity(computed, fields)


def run_dir_for(cfg: DictConfig | Mapping[str, Any]) -> Path:
    """The run directory of ``cfg`` (what ``hydra.run.dir`` resolves to by default)."""
    return resolve(cfg).dir


def run_subdir(cfg: DictConfig | Mapping[str, Any]) -> str:
    """The run directory below the outputs root (a sweep job's ``hydra.sweep.subdir``)."""
    return resolve(cfg).subdir
