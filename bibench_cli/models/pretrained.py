"""Pretrained starts: weights read from a local checkpoint file into a fresh model.

A checkpoint is a bare ``state_dict`` (``torch.save(model.state_dict())``, bibench's own
``model.pt``, torchvision's files) or a Lightning checkpoint (its ``state_dict`` under the
``model.`` prefix). Head layers whose shape differs from the checkpoint's (an ImageNet
classifier loaded for a 10-class task) keep their fresh initialisation and are named;
anything else that does not fit is a one-line error.
"""

from __future__ import annotations

from collections.abc import Iterable
from fnmatch import fnmatchcase
from pathlib import Path

import torch
from torch import nn

from bibench_cli.errors import BibenchError


class CheckpointError(BibenchError):
    """A checkpoint file that is missing or does not fit the model."""


def read_state_dict(path: str | Path) -> dict[str, torch.Tensor]:
    """Weights from a bare state_dict file or a Lightning checkpoint (``model.`` prefix)."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} does not exist")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # pickle, zip and torch errors alike: the file is not a checkpoint
        first_line = (str(exc).strip().splitlines() or [""])[0]  # torch's run to many lines
        raise CheckpointError(
            f"checkpoint {path} cannot be read ({type(exc).__name__}: {first_line})"
        ) from None
    if isinstance(state, dict) and isinstance(state.get("state_dict"), dict):
        state = {k.removeprefix("model."): v for k, v in state["state_dict"].items()}
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise CheckpointError(f"checkpoint {path} is not a state_dict of tensors")
    return state


def load_state_dict_file(model: nn.Module, path: str | Path, heads: Iterable[str] = ()) -> str:
    """Load ``path`` into ``model``; returns a one-line note of the head layers left fresh.

    ``heads`` are fnmatch patterns of module names (the architecture's classifier) whose
    parameters may differ in shape from the checkpoint's.
    """
    state = read_state_dict(path)
    expected = model.state_dict()
    heads = tuple(heads)

    def is_head(key: str) -> bool:
        return any(fnmatchcase(key.rpartition(".")[0], pattern) for pattern in heads)

    fresh = sorted(
        key
        for key, value in state.items()
        if key in expected and value.shape != expected[key].shape and is_head(key)
    )
    usable = {key: value for key, value in state.items() if key not in fresh}
    missing = sorted(set(expected) - set(usable) - set(fresh))
    unexpected = sorted(set(usable) - set(expected))
    wrong = sorted(k for k in usable if k in expected and usable[k].shape != expected[k].shape)
    if missing or unexpected or wrong:
        problems = [
            f"{label} {', '.join(keys[:4])}{' ...' if len(keys) > 4 else ''}"
            for label, keys in (("missing", missing), ("unexpected", unexpected),
                                ("wrong shape", wrong))
            if keys
        ]  # fmt: skip
        raise CheckpointError(f"checkpoint {path} does not fit this model: {'; '.join(problems)}")
    model.load_state_dict(usable, strict=False)
    return f"head layers left at their initialisation: {', '.join(fresh)}" if fresh else ""
