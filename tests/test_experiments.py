"""The named experiments (``experiments/*.yaml``): every grid point of every experiment
composes and can run, or is a pair the experiment drops as incompatible; ``smoke_all``'s
per-task settings (the sweeper's ``when``) reach their points and pass every check against
the demo data."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from conftest import compose_config
from omegaconf import OmegaConf

from bibench_cli.catalog import experiments_root, list_options
from bibench_cli.engine import sweep
from bibench_cli.engine.validate import check_runnable
from bibench_cli.models import IncompatibleError
from bibench_cli.tasks import get_task, list_tasks

EXPERIMENTS = sorted(path.stem for path in experiments_root().glob("*.yaml"))


def sweeper_of(name: str) -> dict:
    """The experiment's sweeper settings, over those of the experiments it extends."""
    node = OmegaConf.to_container(OmegaConf.load(experiments_root() / f"{name}.yaml"))
    parents = [d for d in node.get("defaults", []) if isinstance(d, str) and d != "_self_"]
    settings = {}
    for parent in parents:
        settings.update(sweeper_of(parent))
    settings.update(node.get("hydra", {}).get("sweeper", {}))
    return settings


def points_of(settings: dict, algos: list[str] | None = None) -> list[list[str]]:
    """The grid's points, the ``algo`` axis narrowed to ``algos`` when given."""
    params = dict(settings["params"])
    if algos is not None:
        params["algo"] = ",".join(algos)
    axes = [
        [f"{key}={value}" for value in str(values).split(",")] for key, values in params.items()
    ]
    return sweep.with_extras(
        [list(p) for p in itertools.product(*axes)], settings.get("when") or {}
    )


@pytest.fixture(scope="module")
def demo_root(tmp_path_factory) -> Path:
    """Every task's demo data, as ``bibench data demo --task all`` writes it."""
    root = tmp_path_factory.mktemp("demo")
    for name in list_tasks():
        if get_task(name).demo is not None:
            get_task(name).demo(root, 0)
    return root


@pytest.mark.parametrize("name", EXPERIMENTS)
def test_every_grid_point_composes_and_runs_or_is_dropped(name, demo_root, tmp_path):
    settings = sweeper_of(name)
    algos = str(settings["params"]["algo"]).split(",")
    assert set(algos) <= set(list_options("algo")), algos
    # the algorithms differ only in the binarized layers: FP32 and one binarized algorithm
    # stand for them (every algorithm on every pair is tested in test_matrix)
    runnable = 0
    for point in points_of(settings, algos=[algos[0], algos[-1]]):
        cfg = compose_config(f"experiment={name}", f"data.root={tmp_path}", *point)
        checkpoint = Path(cfg.arch.checkpoint or tmp_path)
        if not checkpoint.exists():  # a BERT checkpoint the grid expects: the demo one
            checkpoint.parent.mkdir(parents=True, exist_ok=True)
            checkpoint.symlink_to(demo_root / "bert_demo")
        try:
            check_runnable(cfg, data=False)
            runnable += 1
        except IncompatibleError:
            assert settings.get("skip_incompatible"), point  # only "every pair that fits" grids
    assert runnable > 0


def test_smoke_all_gives_each_task_its_architecture_and_finds_the_demo_data(demo_root):
    settings = sweeper_of("smoke_all")
    points = points_of(settings)
    tasks = set(str(settings["params"]["task"]).split(","))
    assert tasks == set(list_tasks()) - {"digits"}  # every task with data to write
    archs = {}
    for point in points:
        cfg = compose_config("experiment=smoke_all", f"data.root={demo_root}", *point)
        check_runnable(cfg)  # the dataset included
        archs[cfg.task.name] = cfg.arch.name
        assert cfg.experiment == "smoke_all" and cfg.trainer.threads == 1
    assert archs == {
        "cifar10": "resnet20",
        "imagenet": "resnet18",
        "voc07": "faster_rcnn_r18",
        "coco17": "faster_rcnn_r18",
        "modelnet40": "pointnet",
        "shapenet": "pointnet",
        "speechcommands": "dfsmn",
        "glue": "bert_tiny4",
    }


def test_when_adds_overrides_only_to_the_points_holding_its_key():
    points = [["task=a", "algo=x"], ["task=b", "algo=x"], ["task=b", "algo=y"]]
    when = {"task=b": ["arch=m", "task.epochs=2"], "algo=y": ["seed=3"]}
    assert sweep.with_extras(points, when) == [
        ["task=a", "algo=x"],
        ["task=b", "algo=x", "arch=m", "task.epochs=2"],
        ["task=b", "algo=y", "arch=m", "task.epochs=2", "seed=3"],
    ]
