"""Compose configs the way ``bibench train`` does (Hydra's compose API), and say what went
wrong in one line when Hydra cannot.

Used to check a command line before Hydra runs it (so an unknown option or key is one line
and exit 2, not Hydra's multi-line report), by ``bibench complexity`` and by the tests.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator
from contextlib import contextmanager

from omegaconf import DictConfig

from bibench_cli.errors import BibenchError


class ComposeError(BibenchError):
    """A command line Hydra cannot compose (unknown option, key or syntax)."""


UNKNOWN_KEY = re.compile(r"Could not override '([^']+)'\.\s+To append to your config use")


def schema_keys() -> list[str]:
    """Every dotted key of the run schema (what ``key=value`` may set)."""
    from omegaconf import OmegaConf

    from bibench_cli.config import BibenchConfig

    def walk(node, prefix: str) -> list[str]:
        keys = []
        for key in node:
            child = node._get_node(key)
            keys.append(f"{prefix}{key}")
            if OmegaConf.is_dict(child) and len(child):
                keys += walk(child, f"{prefix}{key}.")
        return keys

    return walk(OmegaConf.structured(BibenchConfig), "")


def one_line(exc: Exception) -> str:
    """An error as one line: Hydra's multi-line "available options" text folded into a list,
    and its "use +key" hint for a mistyped key replaced by the key it most likely meant."""
    unknown = UNKNOWN_KEY.search(str(exc))
    if unknown:
        key = unknown.group(1)
        close = difflib.get_close_matches(key, schema_keys(), n=1, cutoff=0.5)
        hint = f" (did you mean {close[0]}?)" if close else ""
        return f"unknown config key {key!r}{hint}; `bibench train --cfg job` shows the keys"
    options = getattr(exc, "options", None)
    lines = [line.strip() for line in str(exc).split("Config search path:")[0].splitlines()]
    if options:
        return f"{lines[0]}; available: {', '.join(options)}"
    return " ".join(line for line in lines if line)


@contextmanager
def hydra_errors() -> Iterator[None]:
    """Turn Hydra's and OmegaConf's composition errors into a one-line :class:`ComposeError`."""
    from hydra.errors import HydraException
    from omegaconf.errors import OmegaConfBaseException

    try:
        yield
    except (HydraException, OmegaConfBaseException) as exc:
        raise ComposeError(one_line(exc)) from None


def compose_config(*overrides: str) -> DictConfig:
    """The composed run config of ``overrides`` (no sweep syntax), as ``bibench train`` sees it."""
    from hydra import compose, initialize_config_module

    from bibench_cli.config import register_configs

    register_configs()
    with hydra_errors(), initialize_config_module("bibench_cli.conf", version_base="1.3"):
        return compose("config", overrides=list(overrides))


def first_point(overrides: list[str]) -> list[str]:
    """The overrides with each sweep reduced to its first value (``algo=bnn,xnor`` ->
    ``algo=bnn``) and Hydra's own (``hydra...``) left to Hydra: one grid point to check."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    with hydra_errors():
        parsed = OverridesParser.create().parse_overrides(overrides)
    point = []
    for override in parsed:
        if override.is_hydra_override():
            continue
        if not override.is_sweep_override():
            point.append(override.input_line)
        elif override.is_choice_sweep() or override.is_range_sweep():  # globs: left to Hydra
            first = next(iter(override.sweep_string_iterator()), None)
            if first is not None:
                point.append(f"{override.get_key_element()}={first}")
    return point
