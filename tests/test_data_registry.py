"""The task registry: names, static task info, and building datamodules from shared options."""

from __future__ import annotations

import pytest
from fixtures_data import write_fake_cifar10, write_fake_imagenet

from bibench_cli.data import UnknownTaskError, build_datamodule, list_tasks, task_info


def test_known_tasks():
    assert set(list_tasks()) == {"digits", "cifar10", "imagenet"}
    assert all(list_tasks().values())


@pytest.mark.parametrize(
    ("task", "shape", "metrics"),
    [
        ("digits", (10, 1, 8), ("acc",)),
        ("cifar10", (10, 3, 32), ("acc",)),
        ("imagenet", (1000, 3, 224), ("acc", "acc_top5")),
    ],
)
def test_task_info(task, shape, metrics):
    info = task_info(task)
    assert (info.num_classes, info.in_channels, info.image_size) == shape
    assert info.input_kind == "image" and info.metrics == metrics
    assert info.primary_metric == "acc"


def test_unknown_task_lists_the_known_ones():
    with pytest.raises(UnknownTaskError) as caught:
        task_info("mnist")
    assert "'mnist'" in str(caught.value) and "cifar10" in str(caught.value)


SHARED = {"download": False, "batch_size": 32, "num_workers": 0, "seed": 1, "augment": None}


def test_shared_options_build_every_task(tmp_path):
    write_fake_cifar10(tmp_path)
    write_fake_imagenet(tmp_path / "imagenet")
    for task, extra in [
        ("digits", {"val_size": None}),
        ("cifar10", {"val_size": 5}),
        ("imagenet", {"image_size": 224}),
    ]:
        dm = build_datamodule(task, root=str(tmp_path), **SHARED, **extra)
        info = task_info(task)
        assert (dm.in_channels, dm.image_size, dm.input_kind) == (
            info.in_channels,
            info.image_size,
            info.input_kind,
        )
        assert dm.batch_size == 32 and dm.seed == 1
    assert build_datamodule("cifar10", root=str(tmp_path), val_size=None).val_size == 5000


def test_unknown_option_is_rejected():
    with pytest.raises(TypeError, match="unknown datamodule option.*shuffle"):
        build_datamodule("digits", shuffle=True)
