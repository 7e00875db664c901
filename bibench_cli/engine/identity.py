"""A run's identity: the resolved training recipe, a config hash and a deterministic directory.

Run directories come from the identity, never from timestamps, so a re-run (or a resumed
sweep) finds the record of a finished run and skips it. Light on purpose (no torch): the
Hydra resolver for ``hydra.run.dir`` calls it while composing.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

# Keys that do not change what a run computes: excluded from the config hash.
_VOLATILE = {
    ("force",),
    ("resume",),
    ("retry_failed",),
    ("experiment",),  # the same config in two experiments is the same run (FP32 reuse)
    ("paths",),
    ("logger",),
    ("eval",),
    ("data", "root"),
    ("data", "download"),
    ("data", "num_workers"),
    ("trainer", "log_every_n_steps"),
}
_HASH_LEN = 10


def to_plain(cfg: DictConfig | Mapping[str, Any]) -> dict[str, Any]:
    """The resolved config as plain data, without Hydra's own node."""
    if isinstance(cfg, DictConfig):
        return {
            key: OmegaConf.to_container(cfg[key], resolve=True, enum_to_str=True)
            if isinstance(cfg[key], (DictConfig,)) or OmegaConf.is_list(cfg[key])
            else cfg[key]
            for key in cfg
            if key != "hydra"
        }
    return {key: value for key, value in cfg.items() if key != "hydra"}


def is_fp32(cfg: Mapping[str, Any]) -> bool:
    return cfg["algo"]["name"] == "fp32"


def resolve_recipe(cfg: Mapping[str, Any]) -> dict[str, Any]:
    """Optimizer and scheduler actually used: ``auto`` takes the task's FP32 or binary recipe."""
    recipe = cfg["task"]["recipe"]["fp32" if is_fp32(cfg) else "binary"]
    optim, sched = cfg["optim"], cfg["sched"]
    if optim["name"] == "auto":
        chosen = {k: recipe[k] for k in ("lr", "weight_decay", "momentum", "nesterov")}
        chosen["optimizer"] = recipe["optim"]
        for key in ("lr", "weight_decay", "momentum", "nesterov"):
            if optim.get(key) is not None:
                chosen[key] = optim[key]
    else:
        chosen = {k: optim[k] for k in ("lr", "weight_decay", "momentum", "nesterov")}
        chosen["optimizer"] = optim["name"]
    chosen["lr"] = float(chosen["lr"]) * float(optim.get("lr_scale", 1.0))
    chosen["scheduler"] = recipe["sched"] if sched["name"] == "auto" else sched["name"]
    chosen["milestones"] = list(sched["milestones"])
    chosen["gamma"] = sched["gamma"]
    chosen["warmup"] = sched["warmup"]
    return chosen


def resolved_config(cfg: DictConfig | Mapping[str, Any]) -> dict[str, Any]:
    """Plain config with ``recipe`` = the resolved optimizer/scheduler settings."""
    plain = to_plain(cfg)
    plain["recipe"] = resolve_recipe(plain)
    if is_fp32(plain) and not plain["init"].get("checkpoint"):
        plain["init"]["mode"] = "scratch"  # FP32 runs start from scratch whatever init says
    return plain


def _drop(plain: dict[str, Any], path: tuple[str, ...]) -> None:
    node = plain
    for key in path[:-1]:
        node = node.get(key, {})
    if isinstance(node, dict):
        node.pop(path[-1], None)


def _strip_descriptions(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _strip_descriptions(v) for k, v in node.items() if k != "description"}
    return node


def config_hash(cfg: DictConfig | Mapping[str, Any]) -> str:
    """Short sha256 of everything that changes what the run computes."""
    plain = resolved_config(cfg)
    for path in _VOLATILE:
        _drop(plain, path)
    blob = json.dumps(_strip_descriptions(plain), sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:_HASH_LEN]


def identity(cfg: DictConfig | Mapping[str, Any]) -> dict[str, Any]:
    """The fields that name a run in its record and its directory."""
    plain = resolved_config(cfg)
    recipe = plain["recipe"]
    return {
        "experiment": plain["experiment"],
        "algo": plain["algo"]["name"],
        "arch": plain["arch"]["name"],
        "task": plain["task"]["name"],
        "subtask": plain["task"].get("subtask", "") or "",
        "family": plain["arch"].get("family", ""),
        "optimizer": recipe["optimizer"],
        "lr": recipe["lr"],
        "scheduler": recipe["scheduler"],
        "seed": plain["seed"],
        "epochs": plain["trainer"]["max_epochs"],
        "config_hash": config_hash(plain),
    }


def run_subdir(cfg: DictConfig | Mapping[str, Any]) -> str:
    """``<experiment>/<task>/<arch>/<algo>/<optim>-lr<lr>-<sched>-e<epochs>-s<seed>-<hash>``."""
    ident = identity(cfg)
    task = ident["task"] + (f"-{ident['subtask']}" if ident["subtask"] else "")
    leaf = (
        f"{ident['optimizer']}-lr{ident['lr']:g}-{ident['scheduler']}"
        f"-e{ident['epochs']}-s{ident['seed']}-{ident['config_hash']}"
    )
    return str(Path(ident["experiment"], task, ident["arch"], ident["algo"], leaf))


def run_dir_for(cfg: DictConfig | Mapping[str, Any]) -> Path:
    """Absolute run directory: ``paths.outputs`` joined with :func:`run_subdir`."""
    outputs = cfg["paths"]["outputs"]
    return (Path(outputs) / run_subdir(cfg)).resolve()
