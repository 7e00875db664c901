"""Algorithms by name: built-ins, ``bibench.algorithms`` entry points, dotted paths."""

from __future__ import annotations

import importlib
from importlib.metadata import entry_points

from bibench_cli.catalog import PLUGIN_GROUP
from bibench_cli.errors import BibenchError

from . import bireal, bnn, dorefa, fda, fp32, reactnet, recu, xnor, xnorpp
from .algorithm import Algorithm

ENTRY_POINT_GROUP = PLUGIN_GROUP

_REGISTRY: dict[str, Algorithm] = {
    m.ALGORITHM.name: m.ALGORITHM
    for m in (fp32, bnn, xnor, dorefa, bireal, xnorpp, reactnet, recu, fda)
}
_entry_points_loaded = False


class UnknownAlgorithmError(BibenchError, ValueError, KeyError):
    """An algorithm name that is neither registered nor an importable dotted path."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


def register_algorithm(algorithm: Algorithm, *, replace: bool = False) -> Algorithm:
    """Make ``algorithm`` usable by its name everywhere a built-in name is."""
    if not isinstance(algorithm, Algorithm):
        raise TypeError(f"expected an Algorithm, got {type(algorithm).__name__}")
    existing = _REGISTRY.get(algorithm.name)
    if existing is not None and existing is not algorithm and not replace:
        raise ValueError(f"algorithm '{algorithm.name}' is already registered")
    _REGISTRY[algorithm.name] = algorithm
    return algorithm


def unregister_algorithm(name: str) -> None:
    """Forget a registered algorithm (built-ins too: a test or plug-in may replace one)."""
    _REGISTRY.pop(name, None)


def _load_entry_points() -> None:
    global _entry_points_loaded
    if _entry_points_loaded:
        return
    _entry_points_loaded = True
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name not in _REGISTRY:
            algorithm = ep.load()
            if algorithm.name != ep.name:
                raise ValueError(
                    f"entry point '{ep.name}' ({ep.value}) holds algorithm '{algorithm.name}'"
                )
            register_algorithm(algorithm)


def _from_dotted_path(path: str) -> Algorithm:
    module_name, _, attribute = path.partition(":")
    try:
        algorithm = getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError) as err:
        raise UnknownAlgorithmError(f"cannot load algorithm '{path}': {err}") from err
    if not isinstance(algorithm, Algorithm):
        raise UnknownAlgorithmError(f"'{path}' is a {type(algorithm).__name__}, not an Algorithm")
    return register_algorithm(algorithm)


def list_algorithms() -> list[str]:
    """Registered names (built-ins, entry points, and anything registered so far), sorted."""
    _load_entry_points()
    return sorted(_REGISTRY)


def get_algorithm(name: str | Algorithm) -> Algorithm:
    """The algorithm registered as ``name``, or loaded from "package.module:attribute"."""
    if isinstance(name, Algorithm):
        return name
    if name in _REGISTRY:
        return _REGISTRY[name]
    if ":" in name:
        return _from_dotted_path(name)
    _load_entry_points()
    if name in _REGISTRY:
        return _REGISTRY[name]
    raise UnknownAlgorithmError(
        f"unknown binarization algorithm '{name}'; registered: {', '.join(list_algorithms())}"
        " (or give 'package.module:attribute')"
    )
