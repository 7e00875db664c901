"""Every valid algo x arch x task composes into a model that runs; invalid ones are refused."""

from __future__ import annotations

import pytest
import torch
from compose import compose_config

from bibench_cli import catalog
from bibench_cli.binarize import BinarizePolicy, binarize
from bibench_cli.data import task_info
from bibench_cli.engine.validate import check_runnable
from bibench_cli.errors import BibenchError
from bibench_cli.models import build_model

ARCHS = list(catalog.list_options("arch"))
TASKS = list(catalog.list_options("task"))
ALGOS = list(catalog.list_options("algo"))


def _shape(cfg):
    info = task_info(cfg.task.name)
    return info, cfg.task.image_size or info.image_size


@pytest.mark.parametrize("task", TASKS)
@pytest.mark.parametrize("arch", ARCHS)
def test_every_combination_composes_and_runs_or_is_refused_in_one_line(arch, task):
    for algo in ALGOS:
        cfg = compose_config(f"algo={algo}", f"arch={arch}", f"task={task}")
        info, size = _shape(cfg)
        try:
            check_runnable(cfg)
        except BibenchError as exc:
            message = str(exc)
            assert "\n" not in message and arch in message and str(size) in message
            continue
        if size > 64 and algo not in ("fp32", "xnorpp"):  # big inputs: one algo is enough
            continue
        model = build_model(arch, num_classes=info.num_classes, in_channels=info.in_channels,
                            image_size=size)  # fmt: skip
        example = torch.randn(2, info.in_channels, size, size)
        binarize(model, algo, BinarizePolicy(), example)
        with torch.no_grad():
            assert model.eval()(example).shape == (2, info.num_classes)


def test_vggsmall_on_imagenet_is_refused():
    with pytest.raises(BibenchError, match="vggsmall"):
        check_runnable(compose_config("arch=vggsmall", "task=imagenet"))
