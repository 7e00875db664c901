"""The train engine end to end on tiny data: records, FP32 reuse, divergence, determinism."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys

import pytest
from conftest import BIBENCH, QUICK, tiny_cfg, wait_for
from fixtures_data import write_fake_cifar10

from bibench_cli.engine.train import train
from bibench_cli.errors import BibenchError
from bibench_cli.runs.record import RunRecord, read_record, try_read_record, write_record


def test_fp32_run_writes_a_complete_record(tmp_path):
    result = train(tiny_cfg(tmp_path, "algo=fp32"))
    record = result.record
    assert record.status == "completed", record.error
    on_disk = read_record(result.path)
    assert on_disk.to_dict() == record.to_dict()
    assert record.primary_metric == "test/acc" and 0.0 <= record.primary <= 100.0
    assert record.optimizer == "sgd" and record.lr == 0.1 and record.scheduler == "cosine"
    assert record.train_time_s > 0 and record.step_time_s > 0 and record.peak_memory_mb > 0
    assert record.versions["torch"] and record.hostname and record.config["recipe"]
    assert (result.path.parent / "model.pt").is_file()
    # ResNet-20 for CIFAR-10 has 272,474 parameters; a 1-channel stem has 16·9·(3-1) fewer
    assert record.params["fp32_model"] == 272_474 - 16 * 9 * 2
    assert record.r_c == pytest.approx(1.0) and record.r_s == pytest.approx(1.0)


def test_binarized_run_trains_its_fp32_dependency_once_then_reuses_it(tmp_path):
    first = train(tiny_cfg(tmp_path, "algo=bnn"))
    assert first.record.status == "completed", first.record.error
    fp32_records = list(tmp_path.glob("*/digits/resnet20/fp32/*/result.json"))
    assert len(fp32_records) == 1
    assert first.record.init_checkpoint == str(fp32_records[0].parent / "model.pt")
    fp32_written = fp32_records[0].stat().st_mtime_ns

    other_experiment = tiny_cfg(tmp_path, "algo=xnor")
    other_experiment.experiment = "other"
    second = train(other_experiment)
    assert second.record.status == "completed", second.record.error
    assert second.record.init_checkpoint == first.record.init_checkpoint
    assert fp32_records[0].stat().st_mtime_ns == fp32_written  # reused, not retrained
    assert len(list(tmp_path.glob("*/digits/resnet20/fp32/*/result.json"))) == 1


def test_scratch_init_trains_no_fp32_run(tmp_path):
    result = train(tiny_cfg(tmp_path, "algo=dorefa", "init=scratch"))
    assert result.record.status == "completed" and result.record.init_checkpoint == ""
    assert not list(tmp_path.glob("*/*/*/fp32"))


def test_completed_run_is_skipped_unless_forced(tmp_path):
    cfg = tiny_cfg(tmp_path, "algo=fp32")
    first = train(cfg)
    again = train(cfg)
    assert again.skipped and again.record.to_dict() == first.record.to_dict()
    forced = train(tiny_cfg(tmp_path, "algo=fp32", "force=true"))
    assert not forced.skipped and forced.record.status == "completed"


def test_same_seed_gives_bit_identical_metrics(tmp_path):
    a = train(tiny_cfg(tmp_path / "a", "algo=fp32", "seed=7")).record
    b = train(tiny_cfg(tmp_path / "b", "algo=fp32", "seed=7")).record
    assert a.metrics == b.metrics


def test_non_finite_loss_ends_the_run_as_diverged(tmp_path):
    result = train(tiny_cfg(tmp_path, "algo=fp32", "optim=sgd", "optim.lr=1e30"))
    assert result.record.status == "diverged"
    assert "non-finite" in result.record.error
    assert json.loads(result.path.read_text())["status"] == "diverged"


def test_bnn_resnet18_on_the_official_cifar10_layout(tmp_path):
    write_fake_cifar10(tmp_path / "data", per_batch=8, test_size=8)
    result = train(
        tiny_cfg(tmp_path / "out", "algo=bnn", "arch=resnet18", "task=cifar10",
                 f"data.root={tmp_path / 'data'}", "task.data.val_size=8", "task.batch_size=8")
    )  # fmt: skip
    assert result.record.status == "completed", result.record.error
    assert result.record.task == "cifar10" and result.record.arch == "resnet18"


@pytest.mark.slow
def test_two_concurrent_processes_train_the_fp32_dependency_once(tmp_path):
    command = [*BIBENCH, "train", *QUICK, f"paths.outputs={tmp_path}"]
    procs = [
        subprocess.Popen([*command, f"algo={algo}"], cwd=tmp_path, text=True,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        for algo in ("bnn", "xnor")
    ]  # fmt: skip
    outputs = [proc.communicate(timeout=300)[0] for proc in procs]
    assert all(proc.returncode == 0 for proc in procs), outputs
    assert sum(out.count("training it first") for out in outputs) == 1
    assert sum(out.count("reusing FP32 run") for out in outputs) == 1
    assert len(list(tmp_path.glob("*/digits/resnet20/fp32/*/result.json"))) == 1


def test_record_write_interrupted_midway_keeps_the_previous_record(tmp_path, monkeypatch):
    path = write_record(RunRecord(algo="bnn", status="completed", primary=90.0), tmp_path)
    original = path.read_bytes()

    def killed(fd):  # the new record is in the temporary file, not yet moved into place
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "fsync", killed)
    with pytest.raises(KeyboardInterrupt):
        write_record(RunRecord(algo="bnn", status="failed"), tmp_path)
    assert path.read_bytes() == original
    assert [p.name for p in tmp_path.iterdir()] == ["result.json"]  # no temp file left


@pytest.mark.slow
def test_sigkill_during_repeated_writes_never_leaves_a_partial_record(tmp_path):
    writer = (
        "import sys\n"
        "from bibench_cli.runs.record import RunRecord, write_record\n"
        "big = {str(i): float(i) for i in range(20000)}\n"
        "i = 0\n"
        "while True:\n"
        "    i += 1\n"
        "    write_record(RunRecord(seed=i, metrics=big), sys.argv[1])\n"
    )
    for _ in range(3):
        before = read_record(tmp_path).seed if (tmp_path / "result.json").exists() else 0
        proc = subprocess.Popen([sys.executable, "-c", writer, str(tmp_path)])
        # killed once it has replaced the record a few times: mid-write, most likely
        wait_for(lambda b=before: (r := try_read_record(tmp_path)) and r.seed > b + 3)
        proc.kill()
        proc.wait()
        record = read_record(tmp_path / "result.json")  # parses: whole, never torn
        assert len(record.metrics) == 20000


@pytest.mark.parametrize("kind", ["state_dict", "lightning_ckpt"])
def test_init_checkpoint_starts_from_the_given_weights(tmp_path, kind):
    fp32 = train(tiny_cfg(tmp_path, "algo=fp32")).record
    run_dir = tmp_path.joinpath(fp32.run_dir)
    given = run_dir / ("model.pt" if kind == "state_dict" else "checkpoints/last.ckpt")
    result = train(tiny_cfg(tmp_path, "algo=bireal", f"init.checkpoint={given}"))
    assert result.record.status == "completed", result.record.error
    assert result.record.init_checkpoint == str(given.resolve())


def test_logger_that_is_not_installed_is_refused_before_any_work(tmp_path):
    if importlib.util.find_spec("mlflow") is not None:
        pytest.skip("mlflow is installed here")
    with pytest.raises(BibenchError, match="pip install mlflow"):
        train(tiny_cfg(tmp_path, "logger=mlflow"))


@pytest.mark.slow
def test_run_killed_mid_training_resumes_and_its_record_sums_every_attempt(tmp_path):
    args = ["train", "algo=fp32", "task.epochs=30", "trainer.limit_train_batches=2",
            "trainer.limit_val_batches=1", f"paths.outputs={tmp_path}"]  # fmt: skip
    proc = subprocess.Popen([*BIBENCH, *args], cwd=tmp_path, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)  # fmt: skip
    wait_for(lambda: (p := next(tmp_path.glob("**/attempts.json"), None)) is not None
             and json.loads(p.read_text())[0]["steps"] >= 4, what="two epochs")  # fmt: skip
    proc.kill()
    proc.wait()
    record_path = next(tmp_path.glob("**/result.json"))
    assert read_record(record_path).status == "running"
    first = json.loads((record_path.parent / "attempts.json").read_text())[0]

    resumed = subprocess.run([*BIBENCH, *args], cwd=tmp_path, text=True, capture_output=True,
                             timeout=600)  # fmt: skip
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert "resuming the interrupted run from" in resumed.stderr + resumed.stdout
    record = read_record(record_path)
    log = json.loads((record_path.parent / "attempts.json").read_text())
    assert record.status == "completed" and record.attempts == len(log) == 2
    assert record.started_at == first["started_at"] == log[0]["started_at"]
    assert record.train_time_s == pytest.approx(sum(a["train_time_s"] for a in log))
    assert record.train_time_s > log[1]["train_time_s"] >= 0 and log[0]["steps"] >= first["steps"]
    assert record.steps == sum(a["steps"] for a in log) >= 60  # the killed attempt's included
    logs = sorted(p.parent.name for p in record_path.parent.glob("logs/*/metrics.csv"))
    assert logs == ["attempt1", "attempt2"]  # the earlier attempt's log is kept
