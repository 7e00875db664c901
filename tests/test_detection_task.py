"""The voc07 and coco17 tasks wired into the engine: datamodules on demo data, the module
kind's metrics, ``train()`` end to end (FP32 and a binarized run), the CLI."""

from __future__ import annotations

import math

import pytest
import torch
from conftest import TINY_FASTER_RCNN, bibench, compose_config

from bibench_cli.data.detection_datamodule import CocoDataModule, VOCDataModule
from bibench_cli.data.errors import DataOptionError, DatasetNotFoundError
from bibench_cli.data.voc import DEMO_CLASSES
from bibench_cli.engine.train import train
from bibench_cli.models import IncompatibleError, build_model, check_compatible
from bibench_cli.models.inputs import ImageInput
from bibench_cli.runs.identity import resolve
from bibench_cli.tasks import get_task
from bibench_cli.tasks.detection import DetectionModule, named_results

TRAINER = ("trainer.max_epochs=1", "trainer.limit_train_batches=2", "trainer.limit_test_batches=1",
           "trainer.log_every_n_steps=1", "task.batch_size=2")  # fmt: skip
# Faster R-CNN at 64-96 px with few proposals and sampled RoIs: about a second per step
TINY_OVERRIDES = tuple(f"arch.params.{key}={value}" for key, value in TINY_FASTER_RCNN.items())
TASK_SHAPE = get_task("voc07").shape({}, None)


@pytest.fixture(scope="module")
def voc_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("voc")
    get_task("voc07").demo(root, 0)
    return root


@pytest.fixture(scope="module")
def coco_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("coco")
    get_task("coco17").demo(root, 0)
    return root


def first_batch(datamodule, split: str):
    loader = getattr(datamodule, f"{split}_dataloader")()
    return next(iter(loader))


def test_voc_datamodule_batches_and_summary(voc_root):
    datamodule = VOCDataModule(root=voc_root, batch_size=4, seed=0, val_size=4)
    images, targets = first_batch(datamodule, "train")
    assert len(images) == len(targets) == 4
    assert all(image.shape == (3, 96, 96) and image.dtype == torch.float32 for image in images)
    assert all(not t["difficult"].any() for t in targets)  # training drops difficult objects
    test_targets = [t for _, batch in datamodule.test_dataloader() for t in batch]
    assert len(test_targets) == 8 and any(t["difficult"].any() for t in test_targets)
    assert len(datamodule.splits["train"]) == 20 and len(datamodule.splits["val"]) == 4
    assert datamodule.summary == (
        "train: VOC2007 trainval (16 images) + VOC2012 trainval (8 images), 20 images used; "
        "val: 4 images held out; test: VOC2007 test (8 images)"
    )


def boxes_of(datamodule) -> list[torch.Tensor]:
    return [t["boxes"] for _, targets in datamodule.train_dataloader() for t in targets]


def test_training_order_and_flips_follow_the_seed(voc_root):
    def run(seed: int) -> list[torch.Tensor]:
        return boxes_of(VOCDataModule(root=voc_root, batch_size=4, seed=seed))

    first, again, other = run(1), run(1), run(2)
    assert all(torch.equal(a, b) for a, b in zip(first, again, strict=True))
    assert not all(torch.equal(a, b) for a, b in zip(first, other, strict=True))
    unflipped = boxes_of(VOCDataModule(root=voc_root, batch_size=4, seed=1, flip=0.0))
    flipped = [not torch.equal(a, b) for a, b in zip(first, unflipped, strict=True)]
    assert 0 < sum(flipped) < len(flipped)  # same order, about half the images mirrored


def test_coco_datamodule_reads_the_official_layout(coco_root):
    datamodule = CocoDataModule(root=coco_root, batch_size=3)
    images, targets = first_batch(datamodule, "test")
    assert len(images) == 3 and set(targets[0]) == {"boxes", "labels", "difficult"}
    assert "COCO train2017 (24 images with boxes of 24)" in datamodule.summary
    assert "test: COCO val2017 (8 images)" in datamodule.summary


def test_bad_data_options_and_missing_data_are_one_line(voc_root, tmp_path):
    with pytest.raises(DataOptionError, match=r"val_size must be in 0\.\.23 .* got 24"):
        VOCDataModule(root=voc_root, val_size=24).setup()
    with pytest.raises(DataOptionError, match="flip must be a probability"):
        VOCDataModule(root=voc_root, flip=2.0).setup()
    for datamodule, expected in (
        (VOCDataModule(root=tmp_path), "VOCdevkit/VOC2007/ImageSets/Main/trainval.txt"),
        (CocoDataModule(root=tmp_path), "annotations/instances_train2017.json"),
    ):
        with pytest.raises(DatasetNotFoundError, match=expected) as error:
            datamodule.check_data()
        assert "\n" not in str(error.value)


def test_classifiers_and_detectors_refuse_each_others_tasks():
    voc_input = get_task("voc07").shape({}, None).input
    with pytest.raises(IncompatibleError, match="cannot take images with boxes of 20 classes"):
        check_compatible("resnet18", voc_input)
    with pytest.raises(IncompatibleError, match="compatible with detection tasks"):
        check_compatible("faster_rcnn_r18", ImageInput(3, 32))


@pytest.mark.parametrize(
    ("task", "arch", "batch", "lr", "weight_decay"),
    [
        ("voc07", "faster_rcnn_r18", 16, 0.01, 1e-4),
        ("voc07", "ssd300_vgg16", 64, 1e-3, 5e-4),
        ("coco17", "faster_rcnn_r18", 16, 0.02, 1e-4),
        ("coco17", "ssd300_vgg16", 64, 2e-3, 5e-4),
    ],
)
def test_each_detector_gets_its_official_fp32_recipe(task, arch, batch, lr, weight_decay):
    identity = resolve(compose_config(f"task={task}", f"arch={arch}", "algo=fp32"))
    recipe = identity.config["recipe"]
    assert identity.fields["batch_size"] == batch
    assert (recipe["optimizer"], recipe["lr"], recipe["weight_decay"]) == ("sgd", lr, weight_decay)
    binary = resolve(compose_config(f"task={task}", f"arch={arch}", "algo=bnn")).config["recipe"]
    assert (binary["optimizer"], binary["lr"], binary["scheduler"]) == ("adam", 1e-4, "cosine")


def test_per_class_aps_are_named_and_classes_without_objects_left_out():
    result = {"map": torch.tensor(50.0), "ap_per_class": torch.tensor([100.0, math.nan, 0.0])}
    named = named_results(result, ("cat", "dog", "cow"))
    assert named == {"map": 50.0, "ap_cat": 100.0, "ap_cow": 0.0}


def test_perfect_detections_log_100_and_per_class_ap():
    """The module's evaluate + log_metrics on hand-built detections, through a stub model
    that returns the ground truth as detections."""
    shape = get_task("voc07").shape({}, None)
    boxes = torch.tensor([[10.0, 10.0, 40.0, 40.0], [50.0, 50.0, 90.0, 80.0]])
    target = {
        "boxes": boxes,
        "labels": torch.tensor([8, 12]),
        "difficult": torch.zeros(2, dtype=torch.bool),
    }

    class Oracle(torch.nn.Module):
        def forward(self, images):
            return [{**target, "scores": torch.tensor([0.9, 0.8])} for _ in images]

    spec = get_task("voc07")
    module = DetectionModule(Oracle(), {}, spec.metrics, shape)
    module.log = module.log_dict = lambda *args, **kwargs: None  # no Trainer to log to
    module.evaluate(([torch.zeros(3, 96, 96)], [target]), "test")
    assert module.log_metrics("test") == {
        "test/map": 100.0,
        "test/ap_cat": 100.0,
        "test/ap_dog": 100.0,
    }


def test_fp32_and_bnn_faster_rcnn_on_voc07_demo(voc_root, tmp_path):
    overrides = ("task=voc07", "arch=faster_rcnn_r18", f"data.root={voc_root}", *TINY_OVERRIDES)
    result = train(compose_config(f"paths.outputs={tmp_path}", *TRAINER, *overrides, "algo=bnn"))
    record = result.record
    assert record.status == "completed", record.error
    assert result.baseline is not None and result.baseline.status == "completed"
    assert record.metric == "map" and record.primary_metric == "test/map"
    assert 0.0 <= record.primary <= 100.0
    aps = {name for name in record.metrics if name.startswith("test/ap_")}
    assert aps and aps <= {f"test/ap_{name}" for name in DEMO_CLASSES.values()}
    assert "VOC2007 trainval (16 images) + VOC2012 trainval (8 images)" in record.data
    params = sum(p.numel() for p in build_model("faster_rcnn_r18", TASK_SHAPE).parameters())
    assert record.params["fp32_model"] == result.baseline.params["fp32_model"] == params
    # 19 binarized convs; the count is at 20 RoIs (rpn_post_nms_top_n_test) for both runs
    assert record.flops["fp32_model"] == result.baseline.flops["fp32_model"] > 0
    assert record.r_c > 1 and record.r_s > 1
    binarize_txt = (result.path.parent / "binarize.txt").read_text()
    assert "19 layers binarized" in binarize_txt and "1 ReLU kept" in binarize_txt


def test_fp32_ssd_on_coco17_demo(coco_root, tmp_path):
    cfg = compose_config(
        f"paths.outputs={tmp_path}", *TRAINER, "trainer.limit_train_batches=1", "task=coco17",
        "arch=ssd300_vgg16", f"data.root={coco_root}", "algo=fp32",
    )  # fmt: skip
    record = train(cfg).record
    assert record.status == "completed", record.error
    assert record.primary_metric == "test/map" and {"test/map", "test/map_50"} <= set(
        record.metrics
    )
    assert record.data.startswith("train: COCO train2017 (24 images with boxes of 24)")


@pytest.mark.slow
def test_cli_demo_then_debug_train_and_complexity(tmp_path):
    demo = bibench("data", "demo", "--task", "voc07", "--root", "d", cwd=tmp_path)
    assert demo.returncode == 0 and "VOC2012 trainval (8 images)" in demo.stdout, demo.stderr
    run = bibench(
        "train", "task=voc07", "arch=faster_rcnn_r18", "data.root=d", "algo=bnn",
        "trainer=debug", "task.batch_size=2", *TINY_OVERRIDES, cwd=tmp_path,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-2000:]
    assert "bnn/faster_rcnn_r18/voc07: completed, test/map" in run.stdout + run.stderr
    count = bibench(
        "complexity", "algo=bnn", "arch=faster_rcnn_r18", "task=voc07", *TINY_OVERRIDES,
        "--format", "json", cwd=tmp_path,
    )  # fmt: skip
    assert count.returncode == 0, count.stderr[-2000:]
    assert '"input": "images with boxes of 20 classes (counted on 3\\u00d7600\\u00d71000)"' in (
        count.stdout
    )
