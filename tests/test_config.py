"""Config composition, schema validation, recipe resolution and run identity."""

import math

import pytest
from conftest import compose_config

from bibench_cli import catalog
from bibench_cli.compose import ComposeError
from bibench_cli.runs.identity import resolve, resolve_recipe, run_subdir, to_plain
from bibench_cli.tasks.optim import lr_multiplier


def config_hash(cfg):
    return resolve(cfg).run_id


def recipe(cfg):
    return resolve_recipe(to_plain(cfg))


@pytest.mark.parametrize("group", catalog.GROUPS)
def test_every_option_of_every_group_composes(group):
    for name in catalog.list_options(group):
        cfg = compose_config(f"{group}={name}")
        assert cfg[group] is not None


@pytest.mark.parametrize(
    "override", ["seed=abc", "task.epochs=1.5", "init.mode=warm", "optim.lr=fast", "algo.typo=1"]
)
def test_schema_rejects_bad_overrides_before_any_work(override):
    with pytest.raises(ComposeError):
        compose_config(override)


def test_binarized_runs_use_adam_1e3_cosine_and_fp32_runs_the_task_recipe():
    binary = recipe(compose_config("algo=bnn", "task=cifar10"))
    assert (binary["optimizer"], binary["lr"], binary["scheduler"]) == ("adam", 1e-3, "cosine")
    fp32 = recipe(compose_config("algo=fp32", "task=cifar10"))
    assert (fp32["optimizer"], fp32["lr"], fp32["momentum"]) == ("sgd", 0.1, 0.9)


def test_explicit_optimizer_lr_scale_and_scheduler_win_over_the_recipe():
    chosen = recipe(compose_config("algo=xnor", "optim=sgd", "optim.lr_scale=0.1", "sched=step"))
    assert chosen["optimizer"] == "sgd"
    assert chosen["lr"] == pytest.approx(0.01)
    assert chosen["scheduler"] == "step"


def test_identity_and_run_dir_are_deterministic_and_ignore_volatile_keys():
    cfg = compose_config("algo=bnn", "seed=3")
    same = compose_config("algo=bnn", "seed=3", "data.root=/elsewhere", "force=true")
    other_seed = compose_config("algo=bnn", "seed=4")
    assert config_hash(cfg) == config_hash(same)
    assert run_subdir(cfg) == run_subdir(same)
    assert config_hash(cfg) != config_hash(other_seed)
    ident = resolve(cfg).fields
    assert (ident["algo"], ident["arch"], ident["task"], ident["seed"]) == (
        "bnn",
        "resnet20",
        "digits",
        3,
    )
    assert run_subdir(cfg).startswith("default/digits/resnet20/bnn/adam-lr0.001-cosine-e15-s3-")


def test_experiment_names_the_directory_but_not_the_hash():
    a, b = compose_config(), compose_config()
    b.experiment = "b"
    assert config_hash(a) == config_hash(b)
    assert run_subdir(a).split("/")[0] == "default" and run_subdir(b).split("/")[0] == "b"


def test_named_experiment_sets_its_field_and_grid():
    cfg = compose_config("experiment=smoke")
    assert cfg.experiment == "smoke" and cfg.task.name == "digits"


def test_unknown_experiment_lists_the_available_ones():
    with pytest.raises(Exception, match="smoke"):
        compose_config("experiment=nope")


def test_lr_schedules_follow_their_formulas():
    cosine = {"scheduler": "cosine", "warmup": 0.0}
    assert [lr_multiplier(p, cosine) for p in (0.0, 0.5, 1.0)] == pytest.approx([1.0, 0.5, 0.0])
    assert lr_multiplier(0.25, cosine) == pytest.approx(0.5 * (1 + math.cos(math.pi / 4)))
    step = {"scheduler": "step", "milestones": [0.5, 0.75], "gamma": 0.1, "warmup": 0.0}
    assert [lr_multiplier(p, step) for p in (0.49, 0.5, 0.75)] == pytest.approx([1, 0.1, 0.01])
    warm = {"scheduler": "cosine", "warmup": 0.1}
    assert lr_multiplier(0.05, warm) == pytest.approx(0.5)
    assert lr_multiplier(0.1, warm) == pytest.approx(1.0)
