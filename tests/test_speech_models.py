"""FSMN / D-FSMN: sizes, the official forward, binarized layers, complexity and training per
algorithm."""

from __future__ import annotations

import warnings

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from bibench_cli.binarize import (
    BinarizePolicy,
    binarize,
    list_algorithms,
    load_fp32_state_dict,
)
from bibench_cli.binarize.summary import count_complexity
from bibench_cli.data.logmel import LogMelSpectrogram
from bibench_cli.data.speechcommands import SpeechCommandsDataset, read_split
from bibench_cli.data.speechcommands_demo import write_demo_speech_commands
from bibench_cli.models import build_model, get_architecture
from bibench_cli.models.fsmn import MemoryLayer
from bibench_cli.models.inputs import SpectrogramInput, TaskShape

BINARIZING = [name for name in list_algorithms() if name != "fp32"]
LOGMEL = SpectrogramInput(channels=1, bands=32, frames=32)


def build(arch: str = "dfsmn", spec: SpectrogramInput = LOGMEL, classes: int = 12) -> nn.Module:
    return build_model(arch, TaskShape(spec, {"num_classes": classes}))


def policy(arch: str = "dfsmn") -> BinarizePolicy:
    """What a run's policy is: the architecture's declared keep patterns and activation."""
    spec = get_architecture(arch)
    return BinarizePolicy.declared_by(spec.keep, activation=spec.activation)


def conv(c_in: int, c_out: int, k: int, groups: int = 1) -> int:
    return c_out * (c_in // groups) * k + c_out  # weights + bias


def bn(c: int) -> int:
    return 2 * c  # affine weight and bias


def test_parameter_counts_by_hand():
    frontend = conv(1, 16, 5 * 5) + bn(16) + conv(16, 32, 5 * 5) + bn(32)
    fc1 = 256 * 128 + 128
    layer = conv(128, 128, 5, groups=128) + bn(128) + conv(128, 256, 1) + bn(256)
    layer += conv(256, 128, 1) + bn(128)
    head = 1024 * 12 + 12
    expected = frontend + fc1 + 8 * layer + head
    assert expected == 600_236  # "0.60 M" (paper, official config)
    for arch in ("dfsmn", "fsmn"):  # the skips carry no parameters
        assert sum(p.numel() for p in build(arch).parameters()) == expected
    assert sum(p.numel() for p in build(classes=35).parameters()) == expected + 23 * 1025
    # fc1 takes 32 channels x ceil(40/4) bands, the head 128 x ceil(47/4) frames
    other = build(spec=SpectrogramInput(channels=1, bands=40, frames=47))
    resized = expected + (320 - 256) * 128 + (1536 - 1024) * 12
    assert sum(p.numel() for p in other.parameters()) == resized
    assert other(torch.zeros(2, 1, 40, 47)).shape == (2, 12)


def test_images_are_not_spectrograms():
    from bibench_cli.models import IncompatibleError
    from bibench_cli.models.inputs import ImageInput

    with pytest.raises(IncompatibleError, match="'dfsmn' cannot take image input 1×32×32"):
        build_model("dfsmn", TaskShape(ImageInput(1, 32), {"num_classes": 12}))
    with pytest.raises(IncompatibleError, match="'resnet20' cannot take spectrogram input"):
        build_model("resnet20", TaskShape(LOGMEL, {"num_classes": 12}))


def official_forward(model: nn.Module, features: torch.Tensor) -> torch.Tensor:
    """bispeech ``Dfsmn.forward`` + ``LinearClsHead``, with its reshapes, on our modules."""
    batch = features.shape[0]
    out = model.act1(model.bn1(model.conv1(features)))
    out = model.act2(model.bn2(model.conv2(out)))
    out = out.view(batch, -1, out.shape[3]).transpose(1, 2).contiguous()
    out = F.relu(model.fc1(out)).transpose(1, 2).contiguous()
    for layer in model.layers:
        padded = F.pad(out, [2, 2])  # the official memory conv has padding=0
        weight, bias = layer.memory.weight, layer.memory.bias
        memory = F.relu(layer.memory_bn(F.conv1d(padded, weight, bias, groups=128))) + out
        hidden = F.relu(layer.expand_bn(layer.expand(memory)))
        out = F.relu(layer.project_bn(layer.project(hidden))) + memory
    return model.head(out.contiguous().view(batch, -1))


def test_dfsmn_is_the_official_forward():
    torch.manual_seed(0)
    model = build().eval()
    features = torch.randn(3, 1, 32, 32)
    with torch.no_grad():
        logits = model(features)
        assert logits.shape == (3, 12)
        torch.testing.assert_close(logits, official_forward(model, features))


def test_fsmn_drops_only_the_skip_between_memory_blocks():
    torch.manual_seed(0)
    layer = MemoryLayer(8, 16, context=2, skip=False).eval()
    with_skip = MemoryLayer(8, 16, context=2, skip=True).eval()
    with_skip.load_state_dict(layer.state_dict())
    x = torch.randn(2, 8, 6)
    with torch.no_grad():
        memory = F.relu(layer.memory_bn(layer.memory(x))) + x
        torch.testing.assert_close(with_skip(x) - layer(x), memory)
    assert layer.memory.groups == 8 and layer.memory.kernel_size == (5,)


EXPECTED_BINARIZED = {"conv2"} | {
    f"layers.{i}.{name}" for i in range(8) for name in ("memory", "expand", "project")
}


@pytest.mark.parametrize("arch", ["dfsmn", "fsmn"])
@pytest.mark.parametrize("algo", BINARIZING)
def test_binarized_layers_are_the_official_ones(arch: str, algo: str):
    report = binarize(build(arch), algo, policy(arch))
    assert {d.name for d in report.decisions if d.binarized} == EXPECTED_BINARIZED
    assert set(report.kept) == {"conv1", "fc1", "head"}


def test_binarized_runs_use_one_slope_prelus_in_place_of_every_relu():
    """The official ``act_cfg=dict(type='PReLU')`` is mmcv's ``nn.PReLU()``: one slope,
    initialised at 0.25, per use site (27 in D-FSMN: 2 front end, fc1, 3 per layer)."""
    model = build()
    relus = [name for name, m in model.named_modules() if isinstance(m, nn.ReLU)]
    report = binarize(model, "bnn", policy())
    assert report.activation == "prelu" and report.activations == relus and len(relus) == 27
    for name in relus:
        prelu = model.get_submodule(name)
        assert type(prelu) is nn.PReLU and prelu.weight.tolist() == [0.25]
    assert not any(isinstance(m, nn.ReLU) for m in model.modules())


def explicit_depthwise(layer: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """The binarized depthwise conv as 128 single-channel convs, scaled as the layer says."""
    xb, wb = layer.binarize_input(x), layer.binarize_weight(layer.weight)
    out = torch.cat(
        [F.conv1d(xb[:, c : c + 1], wb[c : c + 1], padding=2) for c in range(128)], dim=1
    )
    if layer.scales_output:
        out = layer.scale_output(out, x)
    return out + layer.bias.view(-1, 1)


@pytest.mark.parametrize("algo", BINARIZING)
def test_depthwise_memory_conv_stays_depthwise(algo: str):
    torch.manual_seed(0)
    model = build()
    fp32_state = {k: v.clone() for k, v in model.state_dict().items()}
    binarize(model, algo, policy(), example_input=torch.randn(2, 1, 32, 32))
    layer = model.layers[3].memory
    assert layer.groups == 128 and layer.weight.shape == (128, 1, 5)
    with torch.no_grad():
        layer.eval()  # FDA adds its training-time noise otherwise
        x = torch.randn(4, 128, 8)
        torch.testing.assert_close(layer(x), explicit_depthwise(layer, x))
    load_fp32_state_dict(model, fp32_state)  # the PReLU slopes are new: not in it
    assert torch.equal(layer.weight, fp32_state["layers.3.memory.weight"])
    assert model.layers[3].memory_act.weight.item() == 0.25


def test_xnor_scale_is_per_channel_for_depthwise_conv():
    """XNOR's K for groups=128: each channel's own |a|, averaged over its 5-tap window."""
    model = build()
    binarize(model, "xnor", policy())
    layer = model.layers[0].memory
    x = torch.randn(2, 128, 8)
    expected = F.avg_pool1d(x.abs(), 5, stride=1, padding=2, count_include_pad=True)
    torch.testing.assert_close(layer.activation_scale(x), expected)


# MACs of one 1×32×32 example, by hand: output elements × MACs per element
CONV1 = (16 * 16 * 16) * 25
CONV2 = (32 * 8 * 8) * (16 * 25)
FC1 = (8 * 128) * 256
LAYER = (128 * 8) * 5 + (256 * 8) * 128 + (128 * 8) * 256  # memory, expand, project
HEAD = 12 * 1024
NORMALISED = 16 * 16 * 16 + 32 * 8 * 8 + 8 * (128 + 256 + 128) * 8  # BN / activation outputs


def test_complexity_of_binarized_dfsmn_by_hand():
    model = build()
    binarize(model, "bnn", policy())
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # every layer type is known to the counter
        count = count_complexity(model, LOGMEL.example(1))
    binary_weights = 32 * 16 * 25 + 8 * (128 * 5 + 256 * 128 + 128 * 256)
    assert count.params_binary == binary_weights == 542_208
    # the 27 PReLU slopes are binarization's additions, as an algorithm's scales are
    assert count.params_extra == 27
    assert count.params_float == 600_236 - binary_weights + 27
    assert count.params_fp32 == 600_236
    assert count.macs_binary == CONV2 + 8 * LAYER
    assert count.macs_float == CONV1 + FC1 + HEAD + NORMALISED  # FP layers, batch norms
    assert count.extra_flops == NORMALISED + 8 * 128  # one multiply per PReLU output
    fp32 = count_complexity(build(), LOGMEL.example(1))
    everything = CONV1 + CONV2 + FC1 + 8 * LAYER + HEAD + NORMALISED
    assert fp32.macs_float == count.flops_fp32 == everything


@pytest.fixture(scope="module")
def demo_batch(tmp_path_factory) -> tuple[torch.Tensor, torch.Tensor]:
    """Log-mel features and labels of the demo training split (4 speakers, 1 repeat)."""
    root = tmp_path_factory.mktemp("speech")
    write_demo_speech_commands(root, speakers=4, repeats=1)
    dataset = SpeechCommandsDataset(read_split(root, "train"))
    waves, labels = zip(*(dataset[i] for i in range(len(dataset))), strict=True)
    return LogMelSpectrogram()(torch.stack(waves)), torch.tensor(labels)


def sgd_losses(model: nn.Module, batch: tuple[torch.Tensor, torch.Tensor], lr: float, steps: int):
    """Losses of ``steps`` full-batch SGD steps (the official momentum, nesterov, decay)."""
    features, labels = batch
    optimizer = torch.optim.SGD(
        model.parameters(), lr=lr, momentum=0.9, nesterov=True, weight_decay=1e-4
    )
    losses = []
    for step in range(steps + 1):
        loss = F.cross_entropy(model(features), labels)
        losses.append(loss.item())
        if step < steps:
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return losses


@pytest.fixture(scope="module")
def fp32_run(demo_batch) -> tuple[dict[str, torch.Tensor], list[float]]:
    """FP32 D-FSMN trained 8 steps from scratch: its weights and losses. lr 2e-4: the
    official 1e-3 overshoots without its 5 warm-up epochs."""
    torch.manual_seed(0)
    model = build()
    losses = sgd_losses(model, demo_batch, lr=2e-4, steps=8)
    return model.state_dict(), losses


def test_fp32_learns_the_demo_set(fp32_run):
    _, losses = fp32_run
    assert losses[-1] < 0.7 * losses[0], losses


@pytest.mark.parametrize("algo", BINARIZING)
def test_each_algorithm_learns_the_demo_set_from_the_fp32_weights(algo: str, demo_batch, fp32_run):
    """As the official runs: FP32 start, PReLU. lr 5e-4, where the official 5e-3 is a tenth
    into its warm-up: at 5e-3 from the first step, the PReLU models' losses climb (their
    skip stream is unbounded, so the head's gradient is large; Hardtanh bounded it)."""
    torch.manual_seed(0)
    model = build()
    binarize(model, algo, policy(), example_input=demo_batch[0][:2])
    load_fp32_state_dict(model, fp32_run[0])
    losses = sgd_losses(model, demo_batch, lr=5e-4, steps=16)
    assert losses[-1] < 0.7 * losses[0], losses
