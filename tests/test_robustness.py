"""Corruption evaluation of finished runs: sources, the record update, and kill safety."""

from __future__ import annotations

import json
import signal
import subprocess

import pytest
from conftest import BIBENCH, compose_config
from fixtures_data import write_fake_cifar10, write_fake_cifar10c

from bibench_cli.commands import robustness as robustness_command
from bibench_cli.data.corruptions import CORRUPTIONS, SEVERITIES
from bibench_cli.data.errors import DatasetNotFoundError
from bibench_cli.engine import robustness as engine_robustness
from bibench_cli.engine.robustness import choose_source
from bibench_cli.engine.train import train
from bibench_cli.runs.record import read_record
from bibench_cli.tasks import get_task

TINY = ("trainer=debug", "task.batch_size=16")
ALL_KEYS = {f"{name}/{severity}" for name in CORRUPTIONS for severity in SEVERITIES}


def test_source_is_the_release_when_present_else_generated(tmp_path):
    cifar10 = get_task("cifar10").corruption_release  # the task names its release folder
    assert cifar10 == "CIFAR-10-C" and get_task("digits").corruption_release == ""
    assert choose_source(cifar10, tmp_path) is None
    assert choose_source("", tmp_path, "auto") is None
    with pytest.raises(DatasetNotFoundError, match="CIFAR-10-C"):
        choose_source(cifar10, tmp_path, "cifar10c")
    release = write_fake_cifar10c(tmp_path)
    assert choose_source(cifar10, tmp_path) == release
    assert choose_source(cifar10, tmp_path, "generated") is None


def test_training_with_corruption_eval_records_every_corruption_and_severity(tmp_path):
    full_test_set = "trainer.limit_test_batches=null"  # so the clean accuracies compare
    cfg = compose_config(
        f"paths.outputs={tmp_path}", "algo=fp32", *TINY, full_test_set, "eval.corruptions=true"
    )
    result = train(cfg)
    corruption = result.record.corruption
    assert result.record.status == "completed", result.record.error
    assert corruption["source"] == "generated" and corruption["procedural"] == ["frost"]
    assert set(corruption["results"]) == ALL_KEYS
    assert all(0.0 <= acc <= 100.0 for acc in corruption["results"].values())
    assert corruption["clean"] == pytest.approx(result.record.primary, abs=1e-4)


def test_cifar10_run_reads_the_official_release(tmp_path):
    data = tmp_path / "data"
    write_fake_cifar10(data, per_batch=8, test_size=8)
    write_fake_cifar10c(data, per_severity=3)
    cfg = compose_config(
        f"paths.outputs={tmp_path / 'out'}", "algo=bnn", "task=cifar10", f"data.root={data}",
        "task.data.val_size=8", "init=scratch", *TINY, "eval.corruptions=true",
    )  # fmt: skip
    corruption = train(cfg).record.corruption
    assert corruption["source"] == "CIFAR-10-C release" and corruption["procedural"] == []
    # 3 images per severity: every accuracy is a multiple of 100/3
    assert all(round(acc * 3 / 100, 6).is_integer() for acc in corruption["results"].values())


@pytest.fixture()
def finished_run(tmp_path):
    cfg = compose_config(f"paths.outputs={tmp_path}", "algo=xnorpp", "init=scratch", *TINY)
    result = train(cfg)
    assert result.record.status == "completed", result.record.error
    return result.path


def test_robustness_command_adds_corruptions_and_keeps_every_other_field(finished_run):
    before = read_record(finished_run).to_dict()
    assert robustness_command.main([str(finished_run.parent)]) == 0
    after = read_record(finished_run).to_dict()
    assert set(after.pop("corruption")["results"]) == ALL_KEYS
    before.pop("corruption")
    assert after == before
    assert robustness_command.main([str(finished_run.parent)]) == 0  # already evaluated: skipped


def test_failed_evaluation_leaves_the_record_as_it_was(finished_run, monkeypatch):
    original = finished_run.read_bytes()

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(engine_robustness, "evaluate_corruptions", interrupted)
    with pytest.raises(KeyboardInterrupt):
        robustness_command.main([str(finished_run.parent)])
    assert finished_run.read_bytes() == original


@pytest.mark.slow
def test_sigkilled_evaluation_leaves_a_whole_record(finished_run):
    original = json.loads(finished_run.read_text())
    command = [*BIBENCH, "robustness", str(finished_run.parent)]
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    for line in proc.stderr:  # killed once the evaluation has started
        if line.startswith("evaluating"):
            break
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    now = json.loads(finished_run.read_text())  # never a torn file
    now_corruption = now.pop("corruption")
    original.pop("corruption")
    assert now == original
    assert now_corruption == {} or set(now_corruption["results"]) == ALL_KEYS
