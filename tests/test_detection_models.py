"""Detector layouts: which layers binarize, FP32 checkpoints, ImageNet backbone weights,
complexity counting."""

from __future__ import annotations

import copy

import pytest
import torch
import torchvision
from torch import nn
from torchvision.models.vgg import cfgs, make_layers

from bibench_cli.binarize import BinarizePolicy, binarize, load_fp32_state_dict
from bibench_cli.binarize.summary import count_complexity
from bibench_cli.data.voc import VOC_CLASSES
from bibench_cli.models import get_architecture
from bibench_cli.models.detection import faster_rcnn, ssd
from bibench_cli.models.detection.backbone_weights import BackboneCheckpointError
from bibench_cli.models.detection.resnet_c4 import load_imagenet_backbone
from bibench_cli.models.inputs import DetectionInput, ImageInput
from bibench_cli.models.pretrained import CheckpointError
from bibench_cli.models.resnet import resnet18

VOC = DetectionInput(VOC_CLASSES)
IMAGENET = ImageInput(3, 224)


def policy_of(module) -> BinarizePolicy:
    """The policy the engine builds for a detector module's declarations."""
    return BinarizePolicy.declared_by(
        module.KEEP, activation="hardtanh", keep_activations=module.KEEP_ACTIVATIONS
    )


def binarized_and_kept(model: nn.Module, module) -> tuple[set[str], set[str]]:
    decisions = binarize(model, "bnn", policy_of(module)).decisions
    return {d.name for d in decisions if d.binarized}, {
        d.name for d in decisions if not d.binarized
    }


def relus(model: nn.Module) -> set[str]:
    return {name for name, m in model.named_modules() if type(m) is nn.ReLU}


def convs(model: nn.Module) -> dict[str, nn.Conv2d]:
    return {n: m for n, m in model.named_modules() if isinstance(m, nn.Conv2d)}


def test_faster_rcnn_binarizes_the_resnet18_body_without_its_stem():
    reference = torchvision.models.resnet18()  # names layerX.Y.conv1/conv2/downsample.0
    official = {
        ("roi_heads.box_head." if name.startswith("layer4") else "backbone.") + name
        for name in convs(reference)
        if name.startswith("layer")
    }
    assert len(official) == 19
    model = faster_rcnn.faster_rcnn_r18(VOC, num_classes=21)
    binarized, kept = binarized_and_kept(model, faster_rcnn)
    assert binarized == official
    assert kept == {
        "backbone.conv1",
        "rpn.head.conv.0.0",
        "rpn.head.cls_logits",
        "rpn.head.bbox_pred",
        "roi_heads.box_predictor.cls_score",
        "roi_heads.box_predictor.bbox_pred",
    }
    assert relus(model) == {"rpn.head.conv.0.1"}  # the RPN keeps its ReLU, the body's swapped


def test_faster_rcnn_follows_the_official_config():
    model = faster_rcnn.faster_rcnn_r18(VOC, num_classes=21)
    assert model.backbone.out_channels == 256
    assert model.rpn.anchor_generator.sizes == ((32, 64, 128, 256, 512),)
    assert model.rpn.anchor_generator.aspect_ratios == ((0.5, 1.0, 2.0),)
    pool = model.roi_heads.box_roi_pool
    assert (pool.output_size, pool.sampling_ratio) == ((14, 14), 0)
    assert model.roi_heads.box_coder.weights == (10.0, 10.0, 5.0, 5.0)
    assert model.roi_heads.box_predictor.bbox_pred.out_features == 21 * 4  # class-specific
    sampler = model.rpn.fg_bg_sampler
    assert (sampler.batch_size_per_image, sampler.positive_fraction) == (256, 0.5)
    sampler = model.roi_heads.fg_bg_sampler
    assert (sampler.batch_size_per_image, sampler.positive_fraction) == (512, 0.25)
    heads = model.roi_heads
    assert (heads.nms_thresh, heads.score_thresh, heads.detections_per_img) == (0.5, 0.02, 100)
    assert (model.transform.min_size, model.transform.max_size) == ((600,), 1000)
    assert model.transform.size_divisible == 1024  # one square canvas for every batch
    norms = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._NormBase)]
    assert norms and all(type(m) is nn.BatchNorm2d for m in norms)
    assert all(p.requires_grad for p in model.parameters())
    # stride 16 before RoIAlign, 7×7 after stage 4 of a 14×14 RoI
    assert model.backbone(torch.rand(1, 3, 64, 96)).shape == (1, 256, 4, 6)
    assert model.roi_heads.box_head.layer4(torch.rand(2, 256, 14, 14)).shape == (2, 512, 7, 7)


SSD_OFFICIAL = {
    "backbone.features.2",  # conv1_2
    "backbone.features.5",  # conv2_1
    "backbone.features.7",  # conv2_2
    "backbone.features.10",  # conv3_1
    "backbone.features.12",  # conv3_2
    "backbone.features.14",  # conv3_3
    "backbone.features.17",  # conv4_1
    "backbone.features.19",  # conv4_2
    "backbone.features.21",  # conv4_3
    "backbone.extra.0.1",  # conv5_1
    "backbone.extra.0.3",  # conv5_2
    "backbone.extra.0.5",  # conv5_3
}


def vgg16_conv_channels() -> list[tuple[int, int]]:
    """(in, out) of VGG16's 13 convs, from torchvision's configuration "D"."""
    widths = [3] + [w for w in torchvision.models.vgg.cfgs["D"] if w != "M"]
    return list(zip(widths[:-1], widths[1:], strict=True))


@pytest.fixture(scope="module")
def ssd_model() -> nn.Module:
    """Built once (torchvision builds, then drops, VGG16's 120M-parameter classifier)."""
    return ssd.ssd300_vgg16(VOC, num_classes=4)


def test_ssd_binarizes_the_12_vgg_convs_after_conv1_1(ssd_model):
    model = copy.deepcopy(ssd_model)
    layers = convs(model)
    # "binarize the backbone but its first conv" would swap 22: fc6, fc7 and extras too
    assert sum(n.startswith("backbone.") for n in layers) == 23
    by_order = sorted(SSD_OFFICIAL, key=list(layers).index)
    channels = [(layers[n].in_channels, layers[n].out_channels) for n in by_order]
    assert channels == vgg16_conv_channels()[1:]  # conv1_2 ... conv5_3
    binarized, kept = binarized_and_kept(model, ssd)
    assert binarized == SSD_OFFICIAL
    assert kept == set(layers) - SSD_OFFICIAL
    # fc6/fc7 and the extra layers keep ReLU; the VGG body's (conv1_1 … conv5_3) are swapped
    assert relus(model) == {"backbone.extra.0.7.2", "backbone.extra.0.7.4"} | {
        f"backbone.extra.{block}.{index}" for block in range(1, 5) for index in (1, 3)
    }


def test_ssd_follows_the_official_test_config(ssd_model):
    model = ssd_model
    assert (model.nms_thresh, model.score_thresh, model.detections_per_img) == (0.45, 0.02, 200)
    assert model.transform.fixed_size == (300, 300)
    assert model.anchor_generator.steps == [8, 16, 32, 64, 100, 300]
    assert not any(isinstance(m, nn.modules.batchnorm._NormBase) for m in model.modules())


@pytest.mark.parametrize(
    ("detector", "algo"), [("faster_rcnn", "reactnet"), ("faster_rcnn", "xnorpp"), ("ssd", "bnn")]
)
def test_fp32_state_dict_loads_into_binarized_detector(detector, algo, ssd_model):
    if detector == "ssd":
        fp32, module = ssd_model, ssd
    else:
        fp32, module = faster_rcnn.faster_rcnn_r18(VOC, num_classes=4), faster_rcnn
    fp32_state = fp32.state_dict()
    model = copy.deepcopy(fp32)
    for tensor in model.state_dict().values():  # forget the weights before loading them
        tensor.zero_()
    binarize(model, algo, policy_of(module))
    load_fp32_state_dict(model, fp32_state)
    state = model.state_dict()
    assert all(torch.equal(state[k], v) for k, v in fp32_state.items())


def test_imagenet_resnet18_weights_load_into_body_and_head(tmp_path):
    """torchvision's ResNet-18 (an independent implementation) with random weights, saved
    as a state_dict: the detector's body and head must compute exactly what its stages do."""
    torch.manual_seed(0)
    reference = torchvision.models.resnet18().eval()
    for module in reference.modules():  # non-trivial BatchNorm statistics
        if isinstance(module, nn.BatchNorm2d):
            module.running_mean.uniform_(-0.1, 0.1)
            module.running_var.uniform_(0.5, 1.5)
    path = tmp_path / "resnet18.pt"
    torch.save(reference.state_dict(), path)
    model = faster_rcnn.faster_rcnn_r18(VOC, num_classes=21).eval()
    note = load_imagenet_backbone(model, path)
    assert note.startswith("120 ImageNet ResNet-18 tensors")
    image = torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        stem = reference.maxpool(reference.relu(reference.bn1(reference.conv1(image))))
        c4 = reference.layer3(reference.layer2(reference.layer1(stem)))
        torch.testing.assert_close(model.backbone(image), c4)
        rois = torch.rand(3, 256, 14, 14)
        c5 = torch.flatten(reference.avgpool(reference.layer4(rois)), 1)
        torch.testing.assert_close(model.roi_heads.box_head(rois), c5)


def test_bibench_resnet18_model_file_loads(tmp_path):
    source = resnet18(IMAGENET, num_classes=1000)
    path = tmp_path / "model.pt"
    torch.save(source.state_dict(), path)
    model = faster_rcnn.faster_rcnn_r18(VOC, num_classes=21)
    load_imagenet_backbone(model, path)
    assert torch.equal(model.backbone.conv1.weight, source.conv1.weight)
    assert torch.equal(
        model.roi_heads.box_head.layer4[1].conv2.weight, source.layer4[1].conv2.weight
    )


def test_backbone_files_that_are_not_imagenet_resnet18(tmp_path):
    model = faster_rcnn.faster_rcnn_r18(VOC, num_classes=21)
    cifar = tmp_path / "cifar.pt"
    torch.save(resnet18(ImageInput(3, 32), num_classes=10).state_dict(), cifar)
    with pytest.raises(BackboneCheckpointError, match=r"conv1.weight has shape \(64, 3, 3, 3\)"):
        load_imagenet_backbone(model, cifar)
    binarized = resnet18(IMAGENET, num_classes=1000)
    binarize(binarized, "reactnet")
    path = tmp_path / "binarized.pt"
    torch.save(binarized.state_dict(), path)
    with pytest.raises(BackboneCheckpointError, match="keys missing .* unexpected"):
        load_imagenet_backbone(model, path)
    junk = tmp_path / "junk.pt"
    junk.write_text("not a checkpoint")
    for bad in (cifar, path, junk, tmp_path / "absent.pt"):
        with pytest.raises(CheckpointError) as error:
            load_imagenet_backbone(model, bad)
        assert str(bad) in str(error.value) and "\n" not in str(error.value)


def test_imagenet_vgg16_weights_load_into_the_ssd_body(tmp_path, ssd_model):
    """torchvision's VGG16 layers (random weights) saved as a vgg16 state_dict with its
    classifier: the SSD's conv1_1 … conv4_3 and conv5_x compute what those layers do."""
    torch.manual_seed(0)
    features = make_layers(cfgs["D"])
    state = {f"features.{k}": v for k, v in features.state_dict().items()}
    state["classifier.6.weight"] = torch.zeros(1000, 4096)  # dropped
    path = tmp_path / "vgg16.pt"
    torch.save(state, path)
    model = copy.deepcopy(ssd_model).eval()
    assert ssd.load_vgg16_backbone(model, path).startswith("26 ImageNet VGG16 tensors")
    features[16].ceil_mode = True  # SSD's pool3, as torchvision's SSD patches it
    image = torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        conv4_3 = features[:23](image)
        torch.testing.assert_close(model.backbone.features(image), conv4_3)
        conv5_3 = features[23:30](conv4_3)
        torch.testing.assert_close(model.backbone.extra[0][:7](conv4_3), conv5_3)
    torch.save(resnet18(IMAGENET, num_classes=1000).state_dict(), path)
    with pytest.raises(BackboneCheckpointError, match="expected an ImageNet VGG16"):
        ssd.load_vgg16_backbone(model, path)


TINY = {"min_size": 64, "max_size": 96, "rpn_pre_nms_top_n_test": 200}


@pytest.mark.parametrize("algo", ["fp32", "bnn"])
def test_faster_rcnn_is_counted_on_its_whole_test_proposal_budget(algo):
    """With ``every_proposal`` (the architecture's counting context) stage 4 runs on
    exactly ``rpn_post_nms_top_n_test`` RoIs whatever the weights propose, so FP32 and
    binarized models count the same FLOPs."""
    torch.manual_seed(0)
    model = faster_rcnn.faster_rcnn_r18(VOC, num_classes=21, rpn_post_nms_top_n_test=30, **TINY)
    binarize(model, algo, policy_of(faster_rcnn))
    rois = []
    hook = model.roi_heads.box_head.register_forward_hook(lambda m, a, out: rois.append(len(out)))
    with get_architecture("faster_rcnn_r18").counting(model):
        count = count_complexity(model, VOC.example(1))
    hook.remove()
    assert rois == [30] and model.rpn.nms_thresh == 0.7  # restored
    first = count.layers[[layer.name for layer in count.layers].index("backbone.conv1")]
    # one 600×1000 example image, resized to 58×96 (scale 0.096) and padded to the 96 canvas
    assert first.macs_float == 64 * 3 * 7 * 7 * 48 * 48
    layer4 = [layer for layer in count.layers if "layer4.0.conv1" in layer.name][0]
    assert layer4.macs_binary + layer4.macs_float == 30 * 512 * 256 * 9 * 7 * 7
