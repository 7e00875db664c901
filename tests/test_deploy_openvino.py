"""OpenVINO runs binarized convolutions as xnor-popcount BinaryConvolution and matches torch;
the FP32 baseline compiles too; the timing helper interleaves and drops warm-up rounds."""

from __future__ import annotations

import pytest
import torch
from deploy_helpers import trained_resnet20
from torch import nn

from bibench_cli.binarize import get_algorithm
from bibench_cli.binarize.estimators import binary_sign
from bibench_cli.binarize.probe import probing
from bibench_cli.deploy import DeployError, compare, deploy_form, interleaved_medians, timing
from bibench_cli.deploy.binary_layer import BinaryLayerInference
from bibench_cli.deploy.openvino_runtime import (
    binary_convolutions,
    compile_binary,
    compile_deployed,
    compile_fp32,
    openvino_runner,
    run_openvino,
    time_by_layer_type,
)


def eval_outputs(model, x):
    with probing(model, []):
        return model(x)


@pytest.mark.parametrize(("algo", "steps"), [("bnn", 0), ("bnn", 3), ("reactnet", 3)])
def test_openvino_runs_binary_convolutions_matching_torch(algo, steps):
    """Untrained, BN is the identity: integer conv outputs of exactly 0 reach the next
    binarizer, which must send them to +1 as training does."""
    model, x = trained_resnet20(algo, channels=3, size=16, steps=steps)
    form = deploy_form(model, x)
    compiled = compile_deployed(form, profile=True)
    # every binarized conv (18 3×3 + two 1×1 downsamples) runs as xnor-popcount
    assert len(binary_convolutions(compiled)) == len(form.binary_layers) == 20
    parity = compare(eval_outputs(model, x), run_openvino(compiled, x))
    assert parity.max_rel_diff < 1e-4 and parity.top1_agreement == 1.0
    seconds = time_by_layer_type(compiled, x, repeats=2)
    assert seconds["BinaryConvolution"] > 0 and "Convolution" in seconds  # the FP32 stem


def single_layer(in_channels: int, **geometry) -> nn.Module:
    """A BNN conv with 8 outputs (eval mode)."""
    conv = nn.Conv2d(in_channels, 8, geometry.pop("kernel_size", 3), bias=False, **geometry)
    return get_algorithm("bnn").layers[nn.Conv2d].from_float(conv).eval()


def test_openvino_binarizes_like_training_around_zero():
    """sign as trained (0 and −0 → +1) through OpenVINO's FakeQuantize + BinaryConvolution,
    except on negatives closer to 0 than 4.7e-10 (documented)."""
    layer = single_layer(8, kernel_size=1)
    layer.weight.data.fill_(1.0)  # every output: s(probe) + 7 (the other channels hold 1)
    probe = torch.tensor([0.0, -0.0, 1e-9, -1e-9, 1e-3, -1e-3, 1.0, -1.0, -1e-10])
    x = torch.cat([probe.view(1, -1), torch.ones(7, len(probe))]).view(1, 8, 1, -1)
    deployed = BinaryLayerInference.from_layer(layer, x.shape, "probe")
    compiled = compile_binary(deployed, tuple(x.shape))
    assert len(binary_convolutions(compiled)) == 1
    signs = run_openvino(compiled, x)[0, 0, 0] - 7
    expected = binary_sign(probe)
    expected[-1] = 1.0  # −1e-10 lies above the −2^-31 threshold
    assert signs.tolist() == expected.tolist()


@pytest.mark.parametrize("geometry", [dict(in_channels=12), dict(in_channels=16, groups=2)])
def test_convs_binaryconvolution_gets_wrong_stay_exact_floating_point(geometry):
    """12 input channels (not a multiple of 8) or groups: no BinaryConvolution, same numbers."""
    layer = single_layer(padding=1, **geometry)
    x = torch.randn(2, geometry["in_channels"], 6, 6)
    deployed = BinaryLayerInference.from_layer(layer, x.shape, "conv")
    compiled = compile_binary(deployed, tuple(x.shape))
    assert binary_convolutions(compiled) == []
    assert compare(deployed(x), run_openvino(compiled, x)).max_abs_diff == 0


def test_fp32_baseline_compiles_in_fp32_and_matches_torch():
    model, x = trained_resnet20("fp32", channels=3, size=16)
    compiled = compile_fp32(model, x[:1])
    assert binary_convolutions(compiled) == []
    assert compiled.get_property("INFERENCE_PRECISION_HINT").to_string() == "f32"
    run = openvino_runner(compiled, x[:1])
    run()
    parity = compare(eval_outputs(model, x[:1]), run_openvino(compiled, x[:1]))
    assert parity.max_rel_diff < 1e-5


def test_fp32_baseline_refuses_a_binarized_model():
    model, x = trained_resnet20("bnn", steps=0)
    with pytest.raises(DeployError, match="compile_deployed"):
        compile_fp32(model, x)


def test_interleaved_medians_alternate_models_and_skip_warmup(monkeypatch):
    now = [0.0]
    monkeypatch.setattr(timing.time, "perf_counter", lambda: now[0])
    calls = []

    def model(name, durations):
        steps = iter(durations)

        def run():
            calls.append(name)
            now[0] += next(steps)

        return run

    medians = interleaved_medians(
        {"a": model("a", [100, 100, 1, 3, 2]), "b": model("b", [50, 50, 10, 30, 20])},
        repeats=3,
        warmup=2,
    )
    assert calls == ["a", "b"] * 5
    assert medians == {"a": 2, "b": 20}  # the slow warm-up rounds are not counted
