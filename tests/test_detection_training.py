"""A few training steps of binarized detectors on the demo data: finite, falling loss."""

from __future__ import annotations

import math

import pytest
import torch
from conftest import TINY_FASTER_RCNN

from bibench_cli.binarize import BinarizePolicy, binarize
from bibench_cli.data.detection_transforms import drop_difficult
from bibench_cli.data.voc import VOC_CLASSES, VOCDetectionDataset, write_voc_demo
from bibench_cli.metrics.voc_ap import VOC07MeanAP
from bibench_cli.models.detection import faster_rcnn, ssd
from bibench_cli.models.inputs import DetectionInput

VOC = DetectionInput(VOC_CLASSES)
ALGORITHMS = ["bnn", "xnor", "dorefa", "bireal", "xnorpp", "reactnet", "recu", "fda"]
NUM_CLASSES = len(VOC_CLASSES) + 1


def policy_of(module) -> BinarizePolicy:
    return BinarizePolicy.declared_by(
        module.KEEP, activation="hardtanh", keep_activations=module.KEEP_ACTIVATIONS
    )


@pytest.fixture(scope="module")
def batch(tmp_path_factory) -> tuple[list[torch.Tensor], list[dict[str, torch.Tensor]]]:
    """One demo image (96×96: a circle and a square) and its target, difficult ones dropped."""
    root = tmp_path_factory.mktemp("voc")
    write_voc_demo(root, train_size=1, test_size=0)
    image, target = VOCDetectionDataset(root, "train")[0]
    return [image], [drop_difficult(target)]


def train(model, images, targets, steps: int, lr: float) -> list[dict[str, float]]:
    """Adam steps on one fixed batch; the loss terms of every step."""
    torch.manual_seed(0)  # the RPN and R-CNN samplers draw from torch's RNG
    optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=lr)
    model.train()
    history = []
    for _ in range(steps):
        losses = model(images, targets)
        optimizer.zero_grad()
        sum(losses.values()).backward()
        optimizer.step()
        history.append({name: value.item() for name, value in losses.items()})
    return history


def assert_learns(history: list[dict[str, float]], terms: tuple[str, ...]) -> None:
    """Every term finite; the sum of ``terms`` lower at the end than at the start."""
    assert all(math.isfinite(v) for step in history for v in step.values()), history
    watched = [sum(step[t] for t in terms) for step in history]
    assert sum(watched[-2:]) / 2 < watched[0], watched


# Faster R-CNN's box-regression terms are summed over positive RoIs but divided by all
# sampled ones, so they grow while the RPN learns to propose objects: the classification
# terms are the ones that must fall within a few steps.
RCNN_TERMS = ("loss_classifier", "loss_objectness")


@pytest.mark.parametrize("algo", ALGORITHMS)
def test_binarized_faster_rcnn_learns(batch, algo):
    images, targets = batch
    torch.manual_seed(0)
    model = faster_rcnn.faster_rcnn_r18(VOC, num_classes=NUM_CLASSES, **TINY_FASTER_RCNN)
    binarize(model, algo, policy_of(faster_rcnn), example_input=(images,))  # XNOR++ sizes Γ
    assert_learns(train(model, images, targets, steps=6, lr=1e-3), RCNN_TERMS)
    model.eval()
    with torch.no_grad():
        detections = model(images)
    metric = VOC07MeanAP(num_classes=len(VOC_CLASSES))
    metric.update(detections, targets)
    assert 0 <= metric.compute()["map"] <= 100


def test_binarized_ssd_learns(batch):
    images, targets = batch
    torch.manual_seed(0)
    model = ssd.ssd300_vgg16(VOC, num_classes=NUM_CLASSES)
    binarize(model, "bnn", policy_of(ssd))
    history = train(model, images, targets, steps=3, lr=1e-4)
    assert_learns(history, ("bbox_regression", "classification"))


def test_xnorpp_trains_on_images_of_any_ratio_in_faster_rcnn(batch):
    """XNOR++'s Γ = α ⊗ β(H_out) ⊗ γ(W_out) is sized for one feature-map size; keep-ratio
    resizing gives a wide image another size than a square one, but every batch is padded
    to the one square canvas, so Γ sized on the example fits both."""
    images, targets = batch
    wide = [torch.nn.functional.pad(images[0], (0, 48))]  # 96×144 → 64×96 inside the model
    torch.manual_seed(0)
    model = faster_rcnn.faster_rcnn_r18(VOC, num_classes=NUM_CLASSES, **TINY_FASTER_RCNN)
    binarize(model, "xnorpp", policy_of(faster_rcnn), example_input=VOC.example(1))
    model.train()
    for batch_images in (images, wide):
        losses = model(batch_images, targets)
        assert all(torch.isfinite(v) for v in losses.values())
    assert model.backbone.layer1[0].conv1.beta.numel() == 96 // 4  # canvas 96, stride 4
