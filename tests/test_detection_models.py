"""Detector layouts: which layers binarize, FP32 checkpoints, ImageNet backbone weights."""

from __future__ import annotations

import copy

import pytest
import torch
import torchvision
from torch import nn

from bibench_cli.binarize import BinarizePolicy, binarize, load_fp32_state_dict
from bibench_cli.models.detection import faster_rcnn, ssd
from bibench_cli.models.detection.resnet_c4 import BackboneCheckpointError, load_imagenet_backbone
from bibench_cli.models.resnet import resnet18


def binarized_and_kept(model: nn.Module, keep: tuple[str, ...]) -> tuple[set[str], set[str]]:
    policy = BinarizePolicy(keep_first=False, keep_last=False, keep=keep)
    decisions = binarize(model, "bnn", policy).decisions
    return {d.name for d in decisions if d.binarized}, {
        d.name for d in decisions if not d.binarized
    }


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
    binarized, kept = binarized_and_kept(
        faster_rcnn.faster_rcnn_r18(num_classes=21), faster_rcnn.KEEP
    )
    assert binarized == official
    assert kept == {
        "backbone.conv1",
        "rpn.head.conv.0.0",
        "rpn.head.cls_logits",
        "rpn.head.bbox_pred",
        "roi_heads.box_predictor.cls_score",
        "roi_heads.box_predictor.bbox_pred",
    }


def test_faster_rcnn_follows_the_official_config():
    model = faster_rcnn.faster_rcnn_r18(num_classes=21)
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
    return ssd.ssd300_vgg16(num_classes=4)


def test_ssd_binarizes_the_12_vgg_convs_after_conv1_1(ssd_model):
    model = copy.deepcopy(ssd_model)
    layers = convs(model)
    # "binarize the backbone but its first conv" would swap 22: fc6, fc7 and extras too
    assert sum(n.startswith("backbone.") for n in layers) == 23
    by_order = sorted(SSD_OFFICIAL, key=list(layers).index)
    channels = [(layers[n].in_channels, layers[n].out_channels) for n in by_order]
    assert channels == vgg16_conv_channels()[1:]  # conv1_2 ... conv5_3
    binarized, kept = binarized_and_kept(model, ssd.KEEP)
    assert binarized == SSD_OFFICIAL
    assert kept == set(layers) - SSD_OFFICIAL


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
        fp32, keep = ssd_model, ssd.KEEP
    else:
        fp32, keep = faster_rcnn.faster_rcnn_r18(num_classes=4), faster_rcnn.KEEP
    fp32_state = fp32.state_dict()
    model = copy.deepcopy(fp32)
    for tensor in model.state_dict().values():  # forget the weights before loading them
        tensor.zero_()
    binarize(model, algo, BinarizePolicy(keep_first=False, keep_last=False, keep=keep))
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
    model = faster_rcnn.faster_rcnn_r18(num_classes=21).eval()
    load_imagenet_backbone(model, path)
    image = torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        stem = reference.maxpool(reference.relu(reference.bn1(reference.conv1(image))))
        c4 = reference.layer3(reference.layer2(reference.layer1(stem)))
        torch.testing.assert_close(model.backbone(image), c4)
        rois = torch.rand(3, 256, 14, 14)
        c5 = torch.flatten(reference.avgpool(reference.layer4(rois)), 1)
        torch.testing.assert_close(model.roi_heads.box_head(rois), c5)


def test_bibench_resnet18_model_file_loads(tmp_path):
    source = resnet18(num_classes=1000, in_channels=3, image_size=224)
    path = tmp_path / "model.pt"
    torch.save(source.state_dict(), path)
    model = faster_rcnn.faster_rcnn_r18(num_classes=21)
    load_imagenet_backbone(model, path)
    assert torch.equal(model.backbone.conv1.weight, source.conv1.weight)
    assert torch.equal(
        model.roi_heads.box_head.layer4[1].conv2.weight, source.layer4[1].conv2.weight
    )


def test_backbone_files_that_are_not_imagenet_resnet18(tmp_path):
    model = faster_rcnn.faster_rcnn_r18(num_classes=21)
    cifar = tmp_path / "cifar.pt"
    torch.save(resnet18(num_classes=10, in_channels=3, image_size=32).state_dict(), cifar)
    with pytest.raises(BackboneCheckpointError, match=r"conv1.weight has shape \(64, 3, 3, 3\)"):
        load_imagenet_backbone(model, cifar)
    binarized = resnet18(num_classes=1000, in_channels=3, image_size=224)
    binarize(binarized, "reactnet")
    path = tmp_path / "binarized.pt"
    torch.save(binarized.state_dict(), path)
    with pytest.raises(BackboneCheckpointError, match="not a full-precision ResNet-18"):
        load_imagenet_backbone(model, path)
    junk = tmp_path / "junk.pt"
    junk.write_text("not a checkpoint")
    for bad in (junk, tmp_path / "absent.pt"):
        with pytest.raises(BackboneCheckpointError) as error:
            load_imagenet_backbone(model, bad)
        assert str(bad) in str(error.value) and "\n" not in str(error.value)
