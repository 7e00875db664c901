"""Every task x architecture pair is accepted or refused in one line naming the architecture;
every accepted image-classification pair builds, binarizes and runs for every algorithm."""

from __future__ import annotations

import pytest
import torch
from conftest import compose_config

from bibench_cli import catalog
from bibench_cli.engine.build import model_for, plain
from bibench_cli.engine.validate import check_runnable
from bibench_cli.errors import BibenchError
from bibench_cli.models import check_compatible
from bibench_cli.tasks import get_task

ARCHS = list(catalog.list_options("arch"))
TASKS = list(catalog.list_options("task"))
ALGOS = list(catalog.list_options("algo"))
IMAGE_TASKS = ("digits", "cifar10", "imagenet")
IMAGE_CLASSIFIERS = ("resnet20", "resnet18", "resnet34", "vggsmall")
SUBTASK = {"glue": "cola"}  # a task that needs one to compose


@pytest.mark.parametrize("task", TASKS)
def test_every_pair_is_accepted_or_refused_in_one_line(task):
    cfg = compose_config(f"task={task}", f"task.subtask={SUBTASK.get(task, '')}")
    spec = get_task(task)
    shape = spec.model_shape(cfg.task.subtask, plain(cfg.task.data), None)
    accepted = []
    for arch in ARCHS:
        try:
            check_compatible(arch, shape.input)
        except BibenchError as exc:
            assert "\n" not in str(exc) and repr(arch) in str(exc), str(exc)
            continue
        accepted.append(arch)
    assert accepted, f"no architecture takes {task}"


@pytest.mark.parametrize("task", IMAGE_TASKS)
@pytest.mark.parametrize("arch", IMAGE_CLASSIFIERS)
def test_image_pairs_build_binarize_and_run_or_are_refused(arch, task):
    for algo in ALGOS:
        cfg = compose_config(f"algo={algo}", f"arch={arch}", f"task={task}")
        try:
            check_runnable(cfg, data=False)
        except BibenchError as exc:
            message = str(exc)
            assert "\n" not in message and arch in message and "image input" in message
            continue
        if task == "imagenet" and algo not in ("fp32", "xnorpp"):  # big inputs: one is enough
            continue
        built = model_for(cfg)
        example = torch.randn_like(built.shape.input.example(2))
        with torch.no_grad():
            out = built.model.eval()(example)
        assert out.shape == (2, built.shape.outputs["num_classes"])


def test_vggsmall_on_imagenet_is_refused():
    with pytest.raises(BibenchError, match="vggsmall"):
        check_runnable(compose_config("arch=vggsmall", "task=imagenet"), data=False)
