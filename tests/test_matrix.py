"""Every valid algo x arch x task composes into a model that runs; invalid ones are refused."""

from __future__ import annotations

import pytest
import torch
from conftest import compose_config

from bibench_cli import catalog
from bibench_cli.engine.build import model_for
from bibench_cli.engine.validate import check_runnable
from bibench_cli.errors import BibenchError

ARCHS = list(catalog.list_options("arch"))
TASKS = list(catalog.list_options("task"))
ALGOS = list(catalog.list_options("algo"))


@pytest.mark.parametrize("task", TASKS)
@pytest.mark.parametrize("arch", ARCHS)
def test_every_combination_composes_and_runs_or_is_refused_in_one_line(arch, task):
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
