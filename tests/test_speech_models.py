"""FSMN / D-FSMN: sizes, the official forward, binarized layers and training per algorithm."""

from __future__ import annotations

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
from bibench_cli.data.logmel import LogMelSpectrogram
from bibench_cli.data.speechcommands import SpeechCommandsDataset, read_split
from bibench_cli.data.speechcommands_demo import write_demo_speech_commands
from bibench_cli.models.fsmn import KEEP, MemoryLayer, dfsmn, fsmn

BINARIZING = [name for name in list_algorithms() if name != "fp32"]
POLICY = BinarizePolicy(keep_first=False, keep_last=False, keep=KEEP)


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
    for model in (dfsmn(), fsmn()):  # the skips carry no parameters
        assert sum(p.numel() for p in model.parameters()) == expected
    assert sum(p.numel() for p in dfsmn(num_classes=35).parameters()) == expected + 23 * 1025


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
    model = dfsmn().eval()
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


@pytest.mark.parametrize("build", [dfsmn, fsmn])
@pytest.mark.parametrize("algo", BINARIZING)
def test_binarized_layers_are_the_official_ones(build, algo: str):
    report = binarize(build(), algo, POLICY)
    assert {d.name for d in report.decisions if d.binarized} == EXPECTED_BINARIZED
    kept = {d.name: d.reason for d in report.decisions if not d.binarized}
    assert set(kept) == {"conv1", "fc1", "head"}
    assert all("policy pattern" in reason for reason in kept.values())


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
    model = dfsmn()
    fp32_state = {k: v.clone() for k, v in model.state_dict().items()}
    binarize(model, algo, POLICY, example_input=torch.randn(2, 1, 32, 32))
    layer = model.layers[3].memory
    assert layer.groups == 128 and layer.weight.shape == (128, 1, 5)
    with torch.no_grad():
        layer.eval()  # FDA adds its training-time noise otherwise
        x = torch.randn(4, 128, 8)
        torch.testing.assert_close(layer(x), explicit_depthwise(layer, x))
    load_fp32_state_dict(model, fp32_state)
    assert torch.equal(layer.weight, fp32_state["layers.3.memory.weight"])


def test_xnor_scale_is_per_channel_for_depthwise_conv():
    """XNOR's K for groups=128: each channel's own |a|, averaged over its 5-tap window."""
    model = dfsmn()
    binarize(model, "xnor", POLICY)
    layer = model.layers[0].memory
    x = torch.randn(2, 128, 8)
    expected = F.avg_pool1d(x.abs(), 5, stride=1, padding=2, count_include_pad=True)
    torch.testing.assert_close(layer.activation_scale(x), expected)


@pytest.fixture(scope="module")
def demo_batch(tmp_path_factory) -> tuple[torch.Tensor, torch.Tensor]:
    """Log-mel features and labels of the demo training split (4 speakers, 1 repeat)."""
    root = tmp_path_factory.mktemp("speech")
    write_demo_speech_commands(root, speakers=4, repeats=1)
    dataset = SpeechCommandsDataset(read_split(root, "train"))
    waves, labels = zip(*(dataset[i] for i in range(len(dataset))), strict=True)
    return LogMelSpectrogram()(torch.stack(waves)), torch.tensor(labels)


STEPS = 8


@pytest.mark.parametrize("algo", list_algorithms())
def test_each_algorithm_learns_the_demo_set(algo: str, demo_batch):
    """A few steps of the official recipe (SGD nesterov; lr 1e-3 FP32, 5e-3 binarized)."""
    features, labels = demo_batch
    torch.manual_seed(0)
    model = dfsmn()
    binarize(model, algo, POLICY, example_input=features[:2])
    lr = 2e-4 if algo == "fp32" else 5e-3
    optimizer = torch.optim.SGD(
        model.parameters(), lr=lr, momentum=0.9, nesterov=True, weight_decay=1e-4
    )
    losses = []
    for step in range(STEPS + 1):
        loss = F.cross_entropy(model(features), labels)
        losses.append(loss.item())
        if step < STEPS:
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    assert losses[-1] < 0.7 * losses[0], losses
