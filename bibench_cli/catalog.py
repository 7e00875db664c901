"""What can be selected: the options of each Hydra config group, read straight from the YAML.

Kept free of torch, Lightning and Hydra so ``bibench list`` answers instantly; the YAML files
in ``conf/`` are the single source of truth for names and one-line descriptions.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import yaml

GROUPS = ("algo", "arch", "task", "optim", "sched", "trainer", "logger", "init")
PLUGIN_GROUP = "bibench.algorithms"


def conf_root() -> Path:
    """Directory of the shipped Hydra configs (``conf/`` in a checkout, inside the wheel else)."""
    return Path(str(resources.files("bibench_cli.conf")))


def experiments_root() -> Path:
    """Directory of the named experiment grids (``experiments/``)."""
    return Path(str(resources.files("bibench_cli.experiments")))


@cache
def option(group: str, name: str) -> dict[str, Any]:
    """The raw YAML of ``conf/<group>/<name>.yaml`` (no Hydra composition)."""
    path = conf_root() / group / f"{name}.yaml"
    if not path.is_file():
        known = ", ".join(list_options(group)) or "none"
        raise KeyError(f"unknown {group} {name!r}; available: {known}")
    return yaml.safe_load(path.read_text()) or {}


def list_options(group: str) -> dict[str, str]:
    """``{name: one-line description}`` of every option of a config group, sorted by name."""
    folder = conf_root() / group
    return {
        path.stem: str(option(group, path.stem).get("description", ""))
        for path in sorted(folder.glob("*.yaml"))
    }


def arch_family(arch: str) -> str | None:
    """Architecture family (cnn / transformer / mlp) of a known architecture, else None."""
    try:
        return option("arch", arch).get("family")
    except KeyError:
        return None


def plugin_algorithms() -> dict[str, str]:
    """Algorithms other packages register under the ``bibench.algorithms`` entry point."""
    return {ep.name: f"plug-in from {ep.value}" for ep in entry_points(group=PLUGIN_GROUP)}
