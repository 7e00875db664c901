"""ImageNet backbone weights for a detector: a classifier's state_dict file, checked against
the backbone it should hold, renamed into the detector and loaded; the rest of the
detector (RPN, heads, extra layers) keeps its initialisation.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

from torch import Tensor, nn

from bibench_cli.models.pretrained import CheckpointError, read_state_dict


class BackboneCheckpointError(CheckpointError, ValueError):
    """A file given as ImageNet backbone weights is not such a state_dict."""


def check_backbone(
    path: Path,
    state: Mapping[str, Tensor],
    reference: Mapping[str, Tensor],
    *,
    ignored: tuple[str, ...],
    expected: str,
) -> None:
    """Same keys and shapes as ``reference`` (keys starting with ``ignored``, the
    classifier, may be present or not), or a one-line error saying what differs and what
    ``expected`` file fits."""
    missing = sorted(set(reference) - set(state))
    unexpected = sorted(k for k in set(state) - set(reference) if not k.startswith(ignored))
    if missing or unexpected:
        raise BackboneCheckpointError(
            f"{path} does not hold the expected full-precision backbone: {len(missing)} keys "
            f"missing (e.g. {missing[:3]}), {len(unexpected)} unexpected (e.g. "
            f"{unexpected[:3]}); expected {expected}"
        )
    for key, tensor in reference.items():
        if state[key].shape != tensor.shape:
            raise BackboneCheckpointError(
                f"{path}: {key} has shape {tuple(state[key].shape)} instead of "
                f"{tuple(tensor.shape)}; expected {expected}"
            )


def load_backbone(
    detector: nn.Module,
    path: str | Path,
    reference: Mapping[str, Tensor],
    rename: Callable[[str], str],
    *,
    ignored: tuple[str, ...],
    expected: str,
) -> int:
    """Load the ``reference``-shaped weights of ``path`` into ``detector`` under
    ``rename(key)``; returns how many tensors were loaded."""
    path = Path(path).expanduser()
    state = read_state_dict(path)
    check_backbone(path, state, reference, ignored=ignored, expected=expected)
    renamed = {rename(key): state[key] for key in reference}
    absent = sorted(set(renamed) - set(detector.state_dict()))
    if absent:
        raise BackboneCheckpointError(
            f"the detector has no {absent[:3]}: {type(detector).__name__} does not take {expected}"
        )
    detector.load_state_dict(renamed, strict=False)
    return len(renamed)
