"""The task registry: names, metrics, shapes, task.data options and datamodules."""

from __future__ import annotations

import pytest
from fixtures_data import write_fake_cifar10, write_fake_imagenet

from bibench_cli.models.inputs import ImageInput
from bibench_cli.tasks import TaskOptionError, UnknownTaskError, get_task, list_tasks


def test_known_tasks():
    assert {"digits", "cifar10", "imagenet"} <= set(list_tasks())


@pytest.mark.parametrize(
    ("task", "data", "shape", "metrics"),
    [
        ("digits", {}, (ImageInput(1, 8), 10), ("acc",)),
        ("cifar10", {}, (ImageInput(3, 32), 10), ("acc",)),
        ("imagenet", {"image_size": 224}, (ImageInput(3, 224), 1000), ("acc", "acc_top5")),
        ("imagenet", {"image_size": 64}, (ImageInput(3, 64), 1000), ("acc", "acc_top5")),
    ],
)
def test_published_shape_and_metrics(task, data, shape, metrics):
    spec = get_task(task)
    published = spec.shape(data, None)
    assert (published.input, published.outputs["num_classes"]) == shape
    assert tuple(m.name for m in spec.metrics_for("")) == metrics
    assert all(m.higher_is_better for m in spec.metrics_for(""))


def test_unknown_task_lists_the_known_ones():
    with pytest.raises(UnknownTaskError) as caught:
        get_task("mnist")
    assert "'mnist'" in str(caught.value) and "cifar10" in str(caught.value)


def test_shared_and_task_options_build_every_datamodule(tmp_path):
    write_fake_cifar10(tmp_path)
    write_fake_imagenet(tmp_path / "imagenet")
    shared = {"root": str(tmp_path), "download": False, "batch_size": 32, "num_workers": 0}
    for task, data in [
        ("digits", {}),
        ("cifar10", {"val_size": 5, "augment": False}),
        ("imagenet", {"image_size": 64}),
    ]:
        datamodule = get_task(task).build_datamodule(data, **shared, seed=1)
        datamodule.check_data()
        assert datamodule.batch_size == 32 and datamodule.seed == 1
    assert get_task("cifar10").build_datamodule({}, **shared, seed=0).val_size == 5000


def test_data_options_come_from_the_datamodule_and_bad_ones_are_one_line():
    assert get_task("cifar10").data_options() == ["val_size", "augment"]
    assert get_task("digits").data_options() == []
    with pytest.raises(TaskOptionError, match="shuffle.*accepted: val_size, augment"):
        get_task("cifar10").check_options("", {"shuffle": True})
    with pytest.raises(TaskOptionError, match="no subtasks"):
        get_task("cifar10").check_options("cola", {})


def test_download_is_refused_in_one_line_where_a_task_cannot_fetch():
    from conftest import compose_config

    from bibench_cli.engine.validate import ConfigError, check_runnable

    assert [name for name in list_tasks() if get_task(name).downloads()] == ["cifar10"]
    with pytest.raises(ConfigError, match=r"task 'voc07' cannot download .* download: cifar10$"):
        check_runnable(compose_config("task=voc07", "data.download=true"), data=False)
