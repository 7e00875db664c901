"""The point-cloud tasks wired into the engine: datamodules on demo-layout data, the part
segmentation module kind, ShapeNet's augmentation, complexity counts against hand counts,
and ``train()`` end to end on ModelNet40 and ShapeNet."""

from __future__ import annotations

import math

import pytest
import torch
from conftest import bibench, compose_config
from conftest import tiny_cfg as engine_cfg
from test_pointcloud_models import tnet, vanilla_cls
from torch import nn

from bibench_cli.commands.complexity import count_config
from bibench_cli.data.errors import DataOptionError, DatasetNotFoundError
from bibench_cli.data.modelnet40 import (
    H5_DIRNAME,
    H5_URL,
    TEXT_DIRNAME,
    TEXT_URL,
    write_modelnet40_h5,
    write_modelnet40_text,
)
from bibench_cli.data.modelnet40_datamodule import ModelNet40DataModule
from bibench_cli.data.shapenet import CATEGORY_INDEX, DIRNAME, URL, write_shapenet_part
from bibench_cli.data.shapenet_datamodule import (
    ShapeNetPartDataModule,
    random_jitter,
    random_rotation,
)
from bibench_cli.data.synthetic_points import synthetic_modelnet40, synthetic_shapenet_part
from bibench_cli.engine.train import train
from bibench_cli.engine.validate import check_runnable
from bibench_cli.errors import BibenchError
from bibench_cli.models.inputs import PartPointsInput, TaskShape
from bibench_cli.tasks import get_task
from bibench_cli.tasks.part_segmentation import (
    CLASS_MIOU,
    INSTANCE_MIOU,
    PartSegmentationModule,
)

BAG, MUG = CATEGORY_INDEX["Bag"], CATEGORY_INDEX["Mug"]
POINTS = 64  # points per shape in these tests (the recipes use 1024 and 4096)


@pytest.fixture(scope="module")
def data_root(tmp_path_factory):
    """Tiny sets in the official layouts: ModelNet40 (hdf5 and text), ShapeNet part."""
    root = tmp_path_factory.mktemp("data")
    splits, names = synthetic_modelnet40(train_per_class=4, test_per_class=2, num_points=POINTS)
    write_modelnet40_h5(root, splits, names)
    write_modelnet40_text(root, splits, names)
    counts = {"train": 3, "val": 1, "test": 2}
    write_shapenet_part(root, synthetic_shapenet_part(per_category=counts, points_range=(50, 80)))
    return root


def tiny_cfg(outputs, *overrides):
    """The engine tests' tiny run, on one thread (two contend on a shared 2-core machine)."""
    return engine_cfg(outputs, "trainer.threads=1", *overrides)


def modelnet40(root, **options) -> ModelNet40DataModule:
    return ModelNet40DataModule(root=root, num_points=32, batch_size=8, **options)


# datamodules


def test_modelnet40_batches_are_channels_first_and_seeded(data_root):
    datamodule = modelnet40(data_root, seed=3)
    points, labels = next(iter(datamodule.train_dataloader()))
    assert points.shape == (8, 3, 32) and labels.shape == (8,) and labels.dtype == torch.int64
    assert datamodule.num_classes == 5
    again, _ = next(iter(modelnet40(data_root, seed=3).train_dataloader()))
    other, _ = next(iter(modelnet40(data_root, seed=4).train_dataloader()))
    assert torch.equal(points, again) and not torch.equal(points, other)
    test_points, _ = next(iter(datamodule.test_dataloader()))  # test shapes: not augmented
    plain = modelnet40(data_root, augment=False)
    assert torch.equal(test_points, next(iter(plain.test_dataloader()))[0])
    assert datamodule.val_dataloader() == []  # val_size=0: train on all, no validation


def test_modelnet40_text_layout_normals_and_held_out_shapes(data_root):
    datamodule = modelnet40(data_root, layout="text", normals=True, val_size=6)
    points, _ = next(iter(datamodule.val_dataloader()))
    assert points.shape == (6, 6, 32)
    assert len(datamodule.splits.train) == 20 - 6
    normals = points[:, 3:]
    assert torch.allclose(normals.norm(dim=1), torch.ones(6, 32), atol=1e-4)
    with pytest.raises(DataOptionError, match="no normals"):
        modelnet40(data_root, normals=True)
    with pytest.raises(DataOptionError, match="val_size must be in 0..19"):
        modelnet40(data_root, val_size=20).setup()


def test_a_missing_release_is_one_line_naming_where_what_and_the_download(tmp_path):
    for datamodule, needles in (
        (modelnet40(tmp_path), (H5_DIRNAME, "shape_names.txt", H5_URL)),
        (modelnet40(tmp_path, layout="text"), (TEXT_DIRNAME, TEXT_URL)),
        (ShapeNetPartDataModule(root=tmp_path), (DIRNAME, "synsetoffset2category.txt", URL)),
    ):
        with pytest.raises(DatasetNotFoundError) as error:
            datamodule.check_data()
        message = str(error.value)
        assert "\n" not in message and str(tmp_path) in message
        assert all(needle in message for needle in needles), message


def shapenet(root, **options) -> ShapeNetPartDataModule:
    return ShapeNetPartDataModule(root=root, num_points=POINTS, batch_size=4, **options)


def test_shapenet_batches_splits_and_categories(data_root):
    datamodule = shapenet(data_root)
    points, categories, parts = next(iter(datamodule.train_dataloader()))
    assert points.shape == (4, 6, POINTS) and categories.shape == (4,) and parts.shape == (4, 64)
    assert len(datamodule.splits.train) == 3 * 4 and datamodule.val_dataloader() == []
    with_val = shapenet(data_root, use_val_split=True)
    assert len(with_val.splits.train) == 3 * 3 and len(with_val.splits.val) == 3
    mugs = shapenet(data_root, per_category=True, category="Mug", normals=False)
    points, categories, parts = next(iter(mugs.test_dataloader()))
    assert points.shape[1] == 3 and set(categories.tolist()) == {MUG}
    assert set(parts.unique().tolist()) <= {36, 37}
    with pytest.raises(DataOptionError, match="no Bag shapes in the ShapeNet part trainval"):
        shapenet(data_root, per_category=True, category="Bag").setup()
    with pytest.raises(DataOptionError, match="task.subtask=Mug needs task.data.per_category"):
        shapenet(data_root, category="Mug")


def test_shapenet_augmentation_rotates_within_15_degrees_and_jitters_points():
    generator = torch.Generator().manual_seed(0)
    xyz = torch.randn(16, 50, 3)
    normals = nn.functional.normalize(torch.randn(16, 50, 3), dim=-1)
    clouds = torch.cat([xyz, normals], dim=-1)
    rotated = random_rotation(clouds, generator)
    # a rotation keeps lengths and the angle between a point and its normal
    assert torch.allclose(rotated[..., :3].norm(dim=-1), xyz.norm(dim=-1), atol=1e-5)
    assert torch.allclose(rotated[..., 3:].norm(dim=-1), torch.ones(16, 50), atol=1e-5)
    dots = (rotated[..., :3] * rotated[..., 3:]).sum(-1)
    assert torch.allclose(dots, (xyz * normals).sum(-1), atol=1e-5)
    # three rotations of at most 15 degrees turn no vector by more than 45 degrees
    cosines = nn.functional.cosine_similarity(rotated[..., :3], xyz, dim=-1)
    assert cosines.min() > math.cos(math.radians(45)) and cosines.max() > 0.999
    jittered = random_jitter(clouds, generator)
    moved = jittered[..., :3] - xyz
    assert moved.abs().max() <= 0.01 and moved.abs().max() > 0.009
    assert torch.equal(jittered[..., 3:], normals)


# the part segmentation module kind


class FixedLogits(nn.Module):
    """A stand-in model: returns the given logits, records what it was called with."""

    def __init__(self, logits: torch.Tensor) -> None:
        super().__init__()
        self.logits = logits
        self.calls: list[int] = []

    def forward(self, points, categories=None):
        self.calls.append(0 if categories is None else len(categories))
        return self.logits


def segmentation_module(logits: torch.Tensor, categories: int) -> PartSegmentationModule:
    shape = TaskShape(PartPointsInput(3, logits.shape[-1], categories), {})
    return PartSegmentationModule(FixedLogits(logits), {}, (CLASS_MIOU, INSTANCE_MIOU), shape)


def test_a_per_category_model_learns_local_parts_and_is_scored_on_global_ids():
    logits = torch.tensor([[[2.0, 0.0, 1.0], [0.0, 1.0, 3.0]]])  # Bag: parts 4, 5
    module = segmentation_module(logits, categories=0)
    batch = (torch.zeros(1, 3, 3), torch.tensor([BAG]), torch.tensor([[4, 5, 4]]))
    expected = nn.functional.cross_entropy(logits, torch.tensor([[0, 1, 0]]))
    assert module.training_loss(batch).item() == pytest.approx(expected.item())
    assert module.model.calls == [0]  # the points alone
    placed = module.global_logits(logits, torch.tensor([BAG]))
    assert placed.shape == (1, 50, 3) and torch.equal(placed[:, 4:6], logits)
    assert torch.isinf(placed[:, :4]).all() and torch.isinf(placed[:, 6:]).all()
    module.evaluate(batch, "test")
    module.log_metrics("test")
    # predicted [4, 5, 5] against [4, 5, 4]: part 4 1/2, part 5 1/2
    assert module.computed["test"]["test/class_miou"] == pytest.approx(50.0)
    assert module.subtask_results == {}  # the run's subtask is the category itself


def test_the_all_category_model_reports_each_category_as_a_subtask():
    logits = torch.zeros(2, 50, 4)
    logits[0, 4, :2] = logits[0, 5, 2:] = 1.0  # Bag shape: predicted [4, 4, 5, 5]
    logits[1, 36] = 1.0  # Mug shape: predicted [36] * 4
    module = segmentation_module(logits, categories=16)
    batch = (
        torch.zeros(2, 3, 4),
        torch.tensor([BAG, MUG]),
        torch.tensor([[4, 5, 5, 5], [36, 36, 37, 37]]),
    )
    module.evaluate(batch, "test")
    assert module.model.calls == [2]  # points and categories
    values = module.log_metrics("test")
    bag, mug = (1 / 2 + 2 / 3) / 2, (2 / 4 + 0) / 2
    assert module.subtask_results == pytest.approx({"Bag": 100 * bag, "Mug": 100 * mug})
    assert values["test/class_miou"] == pytest.approx(100 * (bag + mug) / 2)
    assert values["test/instance_miou"] == pytest.approx(100 * (bag + mug) / 2)


# specs, complexity and the engine


def test_shapenet_subtasks_are_the_categories_or_none():
    spec = get_task("shapenet")
    spec.check_options("", {})
    spec.check_options("Chair", {})
    with pytest.raises(BibenchError, match="one of Airplane, .*, Table or empty; got 'chair'"):
        spec.check_options("chair", {})
    shape = spec.shape({"per_category": True, "category": "Motorbike"}, None)
    assert shape.input == PartPointsInput(6, 4096, 0) and shape.outputs == {"num_classes": 6}
    shape = spec.shape({}, None)
    assert shape.input == PartPointsInput(6, 4096, 16) and shape.outputs == {"num_classes": 50}


def pointnet_cls_macs(points: int, classes: int) -> int:
    """MACs of PointNet on ModelNet40 by hand: 1×1 convs N·cin·cout, linears cin·cout,
    batch norms one per output element, the two point transforms N·k·k."""
    n = points

    def tnet(cin: int, k: int) -> int:
        convs = n * (cin * 64 + 64 * 128 + 128 * 1024) + n * (64 + 128 + 1024)
        return convs + 1024 * 512 + 512 * 256 + 256 * k * k + 512 + 256

    encoder = n * (3 * 64 + 64 + 64 * 128 + 128 + 128 * 1024 + 1024)
    head = 1024 * 512 + 512 + 512 * 256 + 256 + 256 * classes
    return tnet(3, 3) + tnet(64, 64) + n * (3 * 3 + 64 * 64) + encoder + head


def test_complexity_of_pointnet_on_modelnet40_against_hand_counts():
    fp32 = count_config(compose_config("algo=fp32", "arch=pointnet", "task=modelnet40"))
    params = vanilla_cls(3, 40) + tnet(3, 3) + tnet(64, 64)
    assert fp32.count.params_fp32 == params
    assert fp32.count.flops_fp32 == pointnet_cls_macs(1024, 40)
    bnn = count_config(compose_config("algo=bnn", "arch=pointnet", "task=modelnet40"))
    assert set(bnn.kept) == {"feat.stn.conv1", "feat.conv1", "fc"}
    # binarized: input T-Net but its first conv, the whole feature T-Net, encoder convs 2-3,
    # fc1 and fc2; convs run once per point, linears once per shape
    convs = (64 * 128 + 128 * 1024) + (64 * 64 + 64 * 128 + 128 * 1024) + (64 * 128 + 128 * 1024)
    fc12 = 1024 * 512 + 512 * 256
    linears = (fc12 + 256 * 9) + (fc12 + 256 * 64 * 64) + fc12
    assert bnn.count.params_binary == convs + linears
    assert bnn.count.params_binary + bnn.count.params_float == params  # BNN adds nothing
    assert bnn.count.macs_binary == 1024 * convs + linears
    assert bnn.count.flops_fp32 == fp32.count.flops_fp32


def test_modelnet40_binarized_run_fine_tunes_from_its_fp32_run(data_root, tmp_path):
    result = train(
        tiny_cfg(tmp_path, "task=modelnet40", "arch=pointnet", "algo=xnorpp", "task.batch_size=8",
                 f"data.root={data_root}", f"task.data.num_points={POINTS}")
    )  # fmt: skip
    record, baseline = result.record, result.baseline
    assert record.status == "completed", record.error
    assert baseline is not None and baseline.status == "completed"
    assert record.init_checkpoint == baseline.checkpoint
    assert record.primary_metric == "test/acc" and "test/acc_mean_class" in record.metrics
    assert baseline.params["fp32_model"] == vanilla_cls(3, 5) + tnet(3, 3) + tnet(64, 64)
    assert record.params["binary"] > 0 and record.flops["binary"] > 0 and record.r_c > 1


def test_shapenet_all_category_run_reports_categories_as_subtasks(data_root, tmp_path):
    result = train(
        tiny_cfg(tmp_path, "task=shapenet", "arch=pointnet_vanilla", "algo=bnn", "init=scratch",
                 "task.batch_size=4", f"data.root={data_root}", f"task.data.num_points={POINTS}")
    )  # fmt: skip
    record = result.record
    assert record.status == "completed", record.error
    assert record.primary_metric == "test/class_miou" and "test/instance_miou" in record.metrics
    assert set(record.subtasks) == {"Laptop", "Mug", "Table"} and record.subtask == ""
    assert all(0 <= value <= 100 for value in record.subtasks.values())
    assert record.params["binary"] > 0 and record.flops["binary"] > 0


def test_shapenet_per_category_run_is_named_by_its_category(data_root, tmp_path):
    cfg = tiny_cfg(tmp_path, "task=shapenet", "arch=pointnet", "algo=fp32", "task.subtask=Mug",
                   "task.data.per_category=true", "task.batch_size=4",
                   f"data.root={data_root}", f"task.data.num_points={POINTS}")  # fmt: skip
    result = train(cfg)
    assert result.record.status == "completed", result.record.error
    assert result.record.subtask == "Mug" and result.record.subtasks == {}
    wrong = tiny_cfg(tmp_path, "task=shapenet", "arch=pointnet", "task.subtask=Mug")
    with pytest.raises(BibenchError, match="needs task.data.per_category=true"):
        check_runnable(wrong, data=False)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("task", "sizes"),
    [("modelnet40", []), ("shapenet", ["task.data.num_points=256", "task.batch_size=8"])],
)
def test_demo_data_then_train_from_the_command_line(tmp_path, task, sizes):
    demo = bibench("data", "demo", "--task", task, "--root", "D", cwd=tmp_path)
    assert demo.returncode == 0, demo.stderr
    trained = bibench("train", f"task={task}", "arch=pointnet", "data.root=D", "trainer=debug",
                      "algo=bnn", *sizes, cwd=tmp_path, timeout=600)  # fmt: skip
    assert trained.returncode == 0, trained.stderr[-2000:]
    assert f"bnn/pointnet/{task}: completed" in trained.stdout
