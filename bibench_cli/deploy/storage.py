"""Storage of a deployed model: binary weights packed at 1 bit, everything else FP32.

Packing: each ±1 weight (C_out, C_in/groups, *kernel) is moved channels-last,
(C_out, *kernel, C_in/groups), and ``np.packbits`` packs the input-channel axis, 1 for −1 (a
sign bit, as Larq Compute Engine) and 0 for +1, each (output channel, kernel tap) row padded
to a whole byte: the layout in which xnor-popcount kernels read weights (runtimes pad to 32
or 64 bits; with C_in a multiple of 64, as in ResNet-18, nothing is padded). Every other
number the deploy form holds (full-precision stem and classifier, BatchNorm, ReActNet's
shift, channel scales no BN absorbed) counts 32 bits; the zero-padding corrections do not
count (derived from the packed weights at load time). The FP32 size counts every
floating-point number of the full-precision model (its checkpoint: the binarized model's
state without the algorithm's declared extras). MB = 10^6 bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from torch import Tensor, nn

from bibench_cli.binarize.checkpoint import declared_extra_keys

from .binary_layer import BinaryLayerInference
from .errors import DeployError
from .form import DeployForm

MB = 1e6
FP32_BYTES = 4
SHAPE_SUFFIX = ".weight_shape"
DERIVED = ("pad_correction",)  # rebuilt from the weights, not stored


@dataclass(frozen=True)
class Storage:
    """Sizes in MB of the full-precision model and of its deployed binarized form."""

    fp32_mb: float
    deployed_mb: float

    @property
    def ratio(self) -> float:
        """Compression: FP32 size over deployed size."""
        return self.fp32_mb / self.deployed_mb


def pack_weight(weight: Tensor) -> np.ndarray:
    """±1 ``weight`` packed 1 bit each along the input dimension (module docstring)."""
    channels_last = weight.detach().cpu().movedim(1, -1) if weight.dim() > 2 else weight
    return np.packbits((channels_last < 0).numpy(), axis=-1)


def packed_arrays(form: DeployForm) -> dict[str, np.ndarray]:
    """What a deployed model stores, by state name: ``<layer>.weight`` as packed uint8 (with
    its unpacked shape under ``<layer>.weight_shape``), every other number as float32."""
    if form.correctness_only:
        raise DeployError(
            f"this deploy form is for correctness only ({form.verdict.rule}): no binary "
            "library runs it, so it has no deployed size"
        )
    arrays: dict[str, np.ndarray] = {}
    binary = {
        name: m for name, m in form.module.named_modules() if isinstance(m, BinaryLayerInference)
    }
    for name, layer in binary.items():
        arrays[f"{name}.weight"] = pack_weight(layer.weight)
        arrays[f"{name}{SHAPE_SUFFIX}"] = np.array(layer.weight.shape, dtype=np.int64)
    for key, value in form.module.state_dict().items():
        local = key.rpartition(".")[2]
        if not value.is_floating_point() or local in DERIVED or key in arrays:
            continue
        arrays[key] = value.detach().cpu().numpy().astype(np.float32)
    return arrays


def deployed_bytes(form: DeployForm) -> int:
    """Bytes of ``packed_arrays(form)``, the shape metadata aside."""
    arrays = packed_arrays(form)
    return sum(a.nbytes for key, a in arrays.items() if not key.endswith(SHAPE_SUFFIX))


def fp32_bytes(model: nn.Module) -> int:
    """Bytes of ``model``'s floating-point state at 32 bits, algorithm extras excluded."""
    extras = declared_extra_keys(model)
    state = model.state_dict()
    return FP32_BYTES * sum(
        t.numel() for k, t in state.items() if t.is_floating_point() and k not in extras
    )


def storage(model: nn.Module, form: DeployForm) -> Storage:
    """FP32 size of ``model`` (binarized or not) and deployed size of its ``form``."""
    return Storage(fp32_bytes(model) / MB, deployed_bytes(form) / MB)


def write_packed(form: DeployForm, path: str | Path) -> Path:
    """Save ``packed_arrays(form)`` as an uncompressed .npz: the deployed size plus a few
    hundred bytes of headers per array."""
    path = Path(path)
    with path.open("wb") as f:
        np.savez(f, **packed_arrays(form))
    return path
