"""Theoretical-complexity counting (paper eq. 7-8) against numbers derived independently:
torchvision's published ResNet-18 figures, hand arithmetic from the layer shapes, torch's
FlopCounterMode, and each algorithm's parameter shapes."""

from __future__ import annotations

import csv
import io
import json
import math
import warnings

import pytest
import torch
from conftest import BINARIZED
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from bibench_cli.binarize import BinaryModule, binarize
from bibench_cli.binarize.summary import count_complexity
from bibench_cli.commands.complexity import main
from bibench_cli.models import build_model
from bibench_cli.models.inputs import ImageInput, TaskShape
from bibench_cli.tracks.complexity import (
    complexity_fields,
    compression_ratio,
    ratios,
    speedup_ratio,
)

IMAGENET = torch.zeros(1, 3, 224, 224)  # counting is per example: a batch of one
DIGITS = torch.zeros(1, 1, 8, 8)

# ResNet-18 at 224×224 by hand. Stages (width, output side): (64, 56) (128, 28) (256, 14)
# (512, 7); each has 4 3×3 convs, the first of stages 2-4 taking the previous width, and
# stages 2-4 a 1×1 downsample conv.
STEM_PARAMS = 7 * 7 * 3 * 64  # 9,408
FC_PARAMS = 512 * 1000 + 1000  # 513,000
BN_CHANNELS = 64 + 4 * 64 + 5 * 128 + 5 * 256 + 5 * 512  # bn1, 4 per stage + downsample: 4,800
BN_PARAMS = 2 * BN_CHANNELS  # γ and β (running statistics are buffers): 9,600
BINARY_PARAMS = (
    4 * 64 * 64 * 9  # stage 1: 147,456
    + 128 * 64 * 9 + 3 * 128 * 128 * 9 + 128 * 64  # stage 2: 524,288
    + 256 * 128 * 9 + 3 * 256 * 256 * 9 + 256 * 128  # stage 3: 2,097,152
    + 512 * 256 * 9 + 3 * 512 * 512 * 9 + 512 * 256  # stage 4: 8,388,608
)  # fmt: skip
FLOAT_PARAMS = STEM_PARAMS + FC_PARAMS + BN_PARAMS  # |M̂| of BNN: 532,008
STEM_MACS = 112 * 112 * 64 * 7 * 7 * 3  # 118,013,952
FC_MACS = 512 * 1000
BINARY_MACS = (
    4 * 56 * 56 * 64 * 64 * 9
    + 28 * 28 * 128 * (64 * 9 + 3 * 128 * 9 + 64)
    + 14 * 14 * 256 * (128 * 9 + 3 * 256 * 9 + 128)
    + 7 * 7 * 512 * (256 * 9 + 3 * 512 * 9 + 256)
)  # fmt: skip  # 1,695,547,392
BN_FLOPS = (  # one folded multiply-add per output element
    64 * 112 * 112 + 4 * 64 * 56 * 56 + 5 * 128 * 28 * 28 + 5 * 256 * 14 * 14 + 5 * 512 * 7 * 7
)  # 2,483,712


def _model(algo: str, arch: str, example: torch.Tensor, num_classes: int) -> nn.Module:
    shape = TaskShape(ImageInput(example.shape[1], example.shape[-1]), {"num_classes": num_classes})
    model = build_model(arch, shape)
    binarize(model, algo, example_input=example)
    return model


@pytest.fixture(scope="module")
def resnet18_fp32():
    return count_complexity(_model("fp32", "resnet18", IMAGENET, 1000), IMAGENET)


@pytest.fixture(scope="module")
def resnet18_bnn():
    return count_complexity(_model("bnn", "resnet18", IMAGENET, 1000), IMAGENET)


def test_resnet18_fp32_matches_published_figures(resnet18_fp32):
    count = resnet18_fp32
    assert count.params_fp32 == count.params_float == 11_689_512  # torchvision's figure
    assert count.params_binary == count.macs_binary == count.extra_flops == 0
    dense_macs = count.flops_fp32 - BN_FLOPS
    assert dense_macs == pytest.approx(1.814e9, rel=1e-3)  # torchvision: 1.814 GMACs
    assert dense_macs == STEM_MACS + BINARY_MACS + FC_MACS
    assert ratios(count).r_c == ratios(count).r_s == 1.0
    assert count.size_mb_fp32 == count.size_mb_binarized == pytest.approx(44.59, abs=0.01)


def test_conv_linear_macs_agree_with_torch_flop_counter():
    model = _model("fp32", "resnet18", IMAGENET, 1000).eval()
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        model(IMAGENET[:1])
    count = count_complexity(model, IMAGENET)
    assert count.flops_fp32 - BN_FLOPS == counter.get_total_flops() // 2


def test_resnet18_bnn_compression_by_hand(resnet18_bnn):
    count = resnet18_bnn
    assert BINARY_PARAMS == 11_157_504 and FLOAT_PARAMS == 532_008
    assert BINARY_PARAMS + FLOAT_PARAMS == 11_689_512
    assert (count.params_binary, count.params_float) == (BINARY_PARAMS, FLOAT_PARAMS)
    r_c = 11_689_512 / ((11_689_512 - FLOAT_PARAMS) / 32 + FLOAT_PARAMS)  # eq. 7
    assert ratios(count).r_c == pytest.approx(r_c, rel=1e-12)
    assert ratios(count).r_c == pytest.approx(13.27, abs=0.005)  # paper Table 3, BNN
    assert count.size_mb_binarized == pytest.approx(
        (BINARY_PARAMS / 8 + FLOAT_PARAMS * 4) / 2**20, rel=1e-12
    )


def test_resnet18_bnn_speedup_by_hand(resnet18_bnn):
    count = resnet18_bnn
    assert count.macs_binary == BINARY_MACS
    float_flops = STEM_MACS + FC_MACS + BN_FLOPS
    assert count.flops_float == float_flops
    total = BINARY_MACS + float_flops
    assert ratios(count).r_s == pytest.approx(total / ((total - float_flops) / 64 + float_flops))
    assert ratios(count).om_comp == pytest.approx(
        math.sqrt((ratios(count).r_c ** 2 + ratios(count).r_s ** 2) / 2)
    )


def test_bnn_kept_layers_and_record_shape(resnet18_bnn):
    by_name = {layer.name: layer for layer in resnet18_bnn.layers}
    assert by_name["conv1"].precision == by_name["fc"].precision == "32-bit"
    assert by_name["layer2.0.downsample.0"].precision == "1-bit"
    assert by_name["layer2.0.downsample.1"].params_float == 2 * 128
    model = _model("bnn", "resnet20", DIGITS, 10)
    record = complexity_fields(count_complexity(model, DIGITS))
    assert set(record) == {"params", "flops", "r_c", "r_s"}
    assert {"fp32_model", "binary", "float", "extra", "size_mb_fp32", "size_mb_binarized"} == set(
        record["params"]
    )
    assert {"fp32_model", "binary", "float", "extra"} == set(record["flops"])
    json.dumps(record)


def _binary_outputs(model: nn.Module, example: torch.Tensor) -> dict[nn.Module, tuple[int, ...]]:
    """Output shape of each binarized layer on one sample, by forward hooks."""
    outputs = {}

    def record(module: nn.Module, args: tuple, out: torch.Tensor) -> None:
        outputs[module] = tuple(out.shape)

    binary = [m for m in model.modules() if isinstance(m, BinaryModule)]
    hooks = [m.register_forward_hook(record) for m in binary]
    with torch.no_grad():
        model.eval()(example[:1])
    for hook in hooks:
        hook.remove()
    return outputs


def _expected_extras(algo: str, layer: nn.Module, out_shape: tuple[int, ...]) -> int:
    """Each algorithm's inference numbers per binarized layer, from its paper."""
    c_out, c_in = layer.weight.shape[0], layer.weight.shape[1] * layer.groups
    return {
        "bnn": 0,
        "xnor": c_out,  # α per output channel (K is computed from the input)
        "dorefa": 1,  # one per-layer scale
        "bireal": c_out,
        "xnorpp": c_out + out_shape[2] + out_shape[3],  # Γ = α (C) ⊗ β (H) ⊗ γ (W)
        "reactnet": c_in + c_out,  # RSign thresholds + α
        "recu": c_out,
        "fda": c_out,  # noise-adaptation MLPs are training-only
    }[algo]


# Declared extras that are learned parameters (the others are statistics of the weight).
LEARNED = {"xnorpp": {"alpha", "beta", "gamma"}, "reactnet": {"threshold"}, "recu": {"alpha"}}


@pytest.mark.parametrize("algo", BINARIZED)
def test_extra_params_match_declared_and_actual_shapes(algo):
    model = _model(algo, "resnet20", DIGITS, 10)
    outputs = _binary_outputs(model, DIGITS)
    count = count_complexity(model, DIGITS)
    layers = {layer.name: layer for layer in count.layers}
    binary = [(n, m) for n, m in model.named_modules() if isinstance(m, BinaryModule)]
    assert len(binary) == 20  # 18 block convs + 2 downsample convs
    for name, module in binary:
        declared = module.extra_inference_params()
        learned = {key for key, _ in module.named_parameters(recurse=False)} & set(declared)
        assert learned == LEARNED.get(algo, set()), name
        for key in learned:
            assert getattr(module, key).numel() == declared[key], (name, key)
        expected = _expected_extras(algo, module, outputs[module])
        assert layers[name].params_extra == sum(declared.values()) == expected, name
        assert layers[name].params_float == expected  # no bias in ResNet convs
        assert layers[name].params_binary == module.weight.numel()
    assert count.params_fp32 == sum(p.numel() for p in _model("fp32", "resnet20", DIGITS, 10).parameters())  # fmt: skip  # noqa: E501
    assert not any("noise" in name for name in layers)


def test_plugin_declared_extras_reach_the_totals():
    plain = count_complexity(_model("bnn", "resnet20", DIGITS, 10), DIGITS)
    model = _model("plugin_algo.learned_scale:ALGORITHM", "resnet20", DIGITS, 10)
    count = count_complexity(model, DIGITS)
    scales = sum(m.scale.numel() for m in model.modules() if isinstance(m, BinaryModule))
    outputs = sum(math.prod(shape) for shape in _binary_outputs(model, DIGITS).values())
    assert count.params_extra == scales > 0
    assert count.params_float == plain.params_float + scales
    assert count.params_fp32 == plain.params_fp32
    assert count.extra_flops == outputs > 0
    assert count.flops_float == plain.flops_float + outputs
    assert ratios(count).r_c < ratios(plain).r_c and ratios(count).r_s < ratios(plain).r_s


class _Attention(nn.Module):
    """A parameter-free module with a matmul the counter has no rule for."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        flat = x.flatten(1)
        return flat @ flat.T @ flat


class _Gain(nn.Module):
    """A module with parameters the counter has no rule for."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.gain = nn.Parameter(torch.ones(channels, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.gain


def test_unknown_modules_are_counted_as_float_and_warned():
    model = nn.Sequential(nn.Conv2d(1, 4, 3), _Gain(4), _Attention(), nn.Linear(144, 2))
    with pytest.warns(UserWarning, match=r"_Gain '1' \(4 params.*_Attention '2'") as caught:
        count = count_complexity(model, DIGITS)
    assert len(caught) == 1 and "\n" not in str(caught[0].message)
    rows = {layer.name: layer for layer in count.layers}
    assert rows["1"].params_float == 4 and not rows["1"].known
    assert rows["2"].macs_float == 1 * 144 * 1 + 1 * 1 * 144  # (1×144)(144×1), (1×1)(1×144)
    assert rows["2"].precision == "32-bit (unknown type)"
    assert count.params_fp32 == sum(p.numel() for p in model.parameters())


def test_undeclared_binary_parameters_are_counted_and_warned():
    model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.Conv2d(4, 4, 3), nn.Flatten(), nn.Linear(64, 2))
    binarize(model, "bnn")
    model[1].offset = nn.Parameter(torch.zeros(4))
    with pytest.warns(UserWarning, match=r"BNNConv2d '1' parameters offset"):
        count = count_complexity(model, DIGITS)
    assert {layer.name: layer.params_extra for layer in count.layers}["1"] == 4


def test_counting_leaves_the_model_unchanged():
    model = _model("xnorpp", "resnet20", DIGITS, 10).train()
    model.layer1.eval()
    modes = [m.training for m in model.modules()]
    state = {k: v.clone() for k, v in model.state_dict().items()}
    hooks = sum(len(m._forward_hooks) + len(m._forward_pre_hooks) for m in model.modules())
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        count_complexity(model, DIGITS)
    assert [m.training for m in model.modules()] == modes
    assert all(torch.equal(v, model.state_dict()[k]) for k, v in state.items())
    assert hooks == sum(len(m._forward_hooks) + len(m._forward_pre_hooks) for m in model.modules())
    assert all(p.grad is None for p in model.parameters())


def test_ratio_formulas_are_eq_7():
    assert compression_ratio(320, 320, 0) == 32.0
    assert speedup_ratio(640, 640, 0) == 64.0
    assert compression_ratio(100, 60, 40) == pytest.approx(100 / (60 / 32 + 40))


# --- the CLI, in-process -------------------------------------------------------------------

DIGITS_ARGS = ["arch=resnet20", "task=digits"]


def test_cli_one_algo_terminal(capsys):
    assert main(["algo=reactnet", *DIGITS_ARGS]) == 0
    out = capsys.readouterr().out
    assert "ReActNetConv2d" in out and "kept: stem" in out and "compression r_c =" in out
    assert "layer3.0.downsample.0" in out


def test_cli_one_algo_json_matches_the_record(capsys):
    assert main(["algo=xnor", *DIGITS_ARGS, "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    expected = complexity_fields(count_complexity(_model("xnor", "resnet20", DIGITS, 10), DIGITS))
    assert {k: data[k] for k in expected} == expected
    assert data["input_shape"] == [1, 1, 8, 8] and data["algo"] == "xnor"
    assert sum(layer["params_extra"] for layer in data["layers"]) == data["params"]["extra"]


def test_cli_plugin_algorithm_by_dotted_name(capsys):
    argv = ["algo.name=plugin_algo.learned_scale:ALGORITHM", *DIGITS_ARGS, "--format=csv"]
    assert main(argv) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert any(row["Type"] == "LearnedScaleConv2d" for row in rows)
    assert int(rows[-1]["Extra FLOPs"]) > 0


@pytest.fixture(scope="module")
def all_json():
    """algo=all once, as JSON, reused by the other formats' checks."""
    import contextlib

    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        assert main(["algo=all", *DIGITS_ARGS, "--format", "json"]) == 0
    return json.loads(buffer.getvalue())


def test_cli_all_json(all_json):
    algos = [row["algo"] for row in all_json["algorithms"]]
    assert algos == ["fp32", *BINARIZED]
    fp32 = all_json["algorithms"][0]
    assert fp32["r_c"] == fp32["r_s"] == 1.0
    assert all(row["r_c"] > 10 and row["r_s"] > 10 for row in all_json["algorithms"][1:])


@pytest.mark.parametrize("fmt", ["csv", "markdown", "terminal"])
def test_cli_all_text_formats(fmt, all_json, capsys):
    assert main(["algo=all", *DIGITS_ARGS, "--format", fmt]) == 0
    out = capsys.readouterr().out
    bnn = next(row for row in all_json["algorithms"] if row["algo"] == "bnn")
    if fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(out)))
        assert [row["Algorithm"] for row in rows] == ["fp32", *BINARIZED]
        assert float(rows[1]["Compression r_c"]) == pytest.approx(bnn["r_c"])
    else:
        assert f"{bnn['r_c']:.2f}" in out and "Speedup r_s" in out and "xnor" in out
    if fmt == "markdown":
        assert "| Algorithm |" in out


def test_cli_bad_input_is_one_line(capsys):
    from bibench_cli.cli import main as bibench

    assert bibench(["complexity", "algo=nope", *DIGITS_ARGS]) == 2
    err = capsys.readouterr().err
    assert err.startswith("bibench complexity: error:") and err.count("\n") == 1
    assert main(["--format", "yaml"]) == 2


def test_cli_module_is_light():
    import subprocess
    import sys

    code = "import sys, bibench_cli.commands.complexity; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
