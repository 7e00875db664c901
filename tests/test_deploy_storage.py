"""Storage: 1-bit packing round-trips, and sizes agree with a count by hand."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from deploy_helpers import trained_resnet20

from bibench_cli.deploy import DeployError, deploy_form, storage, write_packed
from bibench_cli.deploy.binary_layer import BinaryLayerInference
from bibench_cli.deploy.storage import pack_weight


def unpack(packed: np.ndarray, shape: tuple[int, ...]) -> torch.Tensor:
    """Inverse of the documented packing: bits along the input channels, 1 for −1."""
    bits = np.unpackbits(packed, axis=-1, count=shape[1])
    channels_last = torch.from_numpy(1.0 - 2.0 * bits.astype(np.float32))
    return channels_last.movedim(-1, 1) if len(shape) > 2 else channels_last


@pytest.mark.parametrize("shape", [(5, 3, 3, 3), (4, 16, 1, 1), (6, 13), (2, 9, 5)])
def test_packing_round_trips_and_pads_each_row_to_a_byte(shape):
    weight = torch.where(torch.randn(shape) < 0, -1.0, 1.0)
    packed = pack_weight(weight)
    assert packed.dtype == np.uint8
    assert packed.shape == (shape[0], *shape[2:], -(-shape[1] // 8))
    assert torch.equal(unpack(packed, shape), weight)


def resnet20_bytes_by_hand(shift: bool) -> tuple[int, int]:
    """FP32 and deployed bytes of a 3-channel ResNet-20 (16/32/64 wide, 10 classes) whose
    3×3 block convs and 1×1 downsamples are binary, counted from the architecture."""
    convs = [(16, 16, 3)] * 6  # (c_in, c_out, k) of the binarized convs, in order
    convs += [(16, 32, 3), (16, 32, 1)] + [(32, 32, 3)] * 5
    convs += [(32, 64, 3), (32, 64, 1)] + [(64, 64, 3)] * 5
    batchnorm_channels = 16 + 6 * 16 + 7 * 32 + 7 * 64  # stem + blocks (downsample BN too)
    full_precision = 16 * 3 * 9 + 4 * batchnorm_channels + (64 * 10 + 10)  # stem, BN, fc
    fp32 = 4 * (full_precision + sum(ci * co * k * k for ci, co, k in convs))
    packed = sum(co * k * k * (ci // 8) for ci, co, k in convs)  # one bit per weight
    shifts = sum(ci for ci, _, _ in convs) if shift else 0  # ReActNet: one per input channel
    return fp32, packed + 4 * (full_precision + shifts)


@pytest.mark.parametrize("algo", ["bnn", "reactnet", "recu"])
def test_sizes_match_a_count_by_hand(algo, tmp_path):
    model, x = trained_resnet20(algo, channels=3, size=16, steps=1)
    form = deploy_form(model, x)
    fp32, deployed = resnet20_bytes_by_hand(shift=algo == "reactnet")
    sizes = storage(model, form)
    assert (sizes.fp32_mb, sizes.deployed_mb) == (fp32 / 1e6, deployed / 1e6)
    assert sizes.ratio == pytest.approx(fp32 / deployed)

    path = write_packed(form, tmp_path / "model.npz")
    with np.load(path) as archive:
        headers = 400 * len(archive.files)  # npy header + zip entry per array, long names
        assert deployed < path.stat().st_size < deployed + headers
        for name, layer in form.module.named_modules():
            if isinstance(layer, BinaryLayerInference):
                shape = tuple(archive[f"{name}.weight_shape"])
                assert torch.equal(unpack(archive[f"{name}.weight"], shape), layer.weight)


def test_correctness_only_forms_have_no_deployed_size():
    model, x = trained_resnet20("xnor", steps=1)
    with pytest.raises(DeployError, match="correctness only") as err:
        storage(model, deploy_form(model, x))
    assert "\n" not in str(err.value)
