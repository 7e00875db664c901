"""Loading a full-precision checkpoint into a binarized model."""

from __future__ import annotations

from collections.abc import Mapping

from torch import Tensor, nn

from .base import BinaryModule

# Set on the activations ``binarize`` puts in place of ReLUs: a PReLU's slope is new, so the
# full-precision checkpoint of the model cannot hold it.
SWAPPED_ACTIVATION = "bibench_swapped_activation"


def declared_extra_keys(model: nn.Module) -> set[str]:
    """state_dict keys that binarized layers and swapped-in activations add beyond the
    full-precision model's."""
    keys = set()
    for name, module in model.named_modules():
        if isinstance(module, BinaryModule):
            extra = module.extra_state_keys()
        elif getattr(module, SWAPPED_ACTIVATION, False):
            extra = list(module.state_dict())
        else:
            continue
        keys.update(f"{name}.{key}" if name else key for key in extra)
    return keys


def load_fp32_state_dict(model: nn.Module, state_dict: Mapping[str, Tensor]) -> None:
    """Load a full-precision state_dict, leaving the algorithms' extra parameters (and the
    slopes of swapped-in PReLUs) at their initial values. Raises before loading anything if
    a key other than those declared extras is missing, or if any key is unexpected."""
    expected = set(model.state_dict())
    given = set(state_dict)
    missing = expected - given - declared_extra_keys(model)
    unexpected = given - expected
    if missing or unexpected:
        raise RuntimeError(
            f"not a full-precision checkpoint of this model: missing {sorted(missing)}, "
            f"unexpected {sorted(unexpected)}"
        )
    model.load_state_dict(state_dict, strict=False)
