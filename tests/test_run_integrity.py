"""Nothing is lost and bad input is caught before any work, once (integrity issue, items
4-13 and the smaller ones). Each scenario runs for real: records on disk, subprocess kills
and interrupts where the item is about one."""

from __future__ import annotations

import json
import logging
import os
import resource
import shutil
import signal
import stat
import subprocess
import threading
from pathlib import Path

import pytest
from conftest import BIBENCH, QUICK, bibench, compose_config, tiny_cfg, wait_for

from bibench_cli.cli import main as cli
from bibench_cli.data.cifar10 import write_cifar10_demo
from bibench_cli.engine.locks import run_lock
from bibench_cli.engine.train import summary_line, train
from bibench_cli.engine.validate import check_runnable
from bibench_cli.errors import BibenchError
from bibench_cli.runs.identity import resolve
from bibench_cli.runs.record import RunRecord, read_record, write_record

TESTS = Path(__file__).parent


def one_line_error(err: str) -> str:
    """The one error line of ``err`` (library warnings aside), and no traceback."""
    lines = [line for line in err.splitlines() if "error" in line.lower()]
    assert len(lines) == 1 and "Traceback" not in err, err[-3000:]
    return lines[0]


# --- 6: files follow the umask ------------------------------------------------------------


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o002, 0o664)])
def test_records_are_created_with_the_umask_like_every_other_file(tmp_path, umask, mode):
    previous = os.umask(umask)
    try:
        path = write_record(RunRecord(algo="bnn"), tmp_path)
    finally:
        os.umask(previous)
    assert stat.S_IMODE(path.stat().st_mode) == mode


# --- 9, 10, 11: bad input is one line, before any record -----------------------------------


@pytest.mark.parametrize(
    ("override", "needle"),
    [
        ("task.epochs=0", "task.epochs=0 (must be >= 1)"),
        ("task.batch_size=0", "task.batch_size=0 (must be >= 1)"),
        ("optim.lr_scale=0", "optim.lr_scale=0.0 (must be > 0)"),
        ("seed=-1", "seed=-1 (must be in 0..4294967295)"),
        ("seed=4294967296", "seed=4294967296"),
        ("+task.epoch=3", "unknown config key(s): task.epoch (did you mean task.epochs?)"),
        ("policy.keep=[layer9.*]", "'layer9.*' match no conv/linear layer; the layers are: conv1"),
        ("+task.data.shuffle=1", "unknown task.data option(s) shuffle for task 'digits'"),
    ],
)
def test_out_of_range_and_unknown_values_are_refused_in_one_line(
    tmp_path, capsys, override, needle
):
    assert cli(["train", f"paths.outputs={tmp_path}", "algo=bnn", override]) == 2
    assert needle in one_line_error(capsys.readouterr().err)
    assert not list(tmp_path.rglob("result.json"))


@pytest.mark.parametrize(
    ("command", "needle"),
    [
        (["train", "algo=nope"], "Could not find 'algo/nope'; available: bireal, bnn"),
        (["train", "arch=nope"], "Could not find 'arch/nope'"),
        (["train", "task=nope"], "Could not find 'task/nope'"),
        (["train", "epochs=3"], "unknown config key 'epochs' (did you mean task.epochs?)"),
        (["sweep", "algo=bnn,nope"], "Could not find 'algo/nope'"),
        (["sweep", "foo=1,2"], "unknown config key 'foo'"),
    ],
)
def test_unknown_names_and_keys_are_one_line_and_exit_2(tmp_path, capsys, command, needle):
    assert cli([*command, f"paths.outputs={tmp_path}"]) == 2
    assert needle in one_line_error(capsys.readouterr().err)


def test_val_size_beyond_the_training_set_is_refused_before_any_record(tmp_path):
    write_cifar10_demo(tmp_path / "data", train=20, test=10)
    cfg = tiny_cfg(tmp_path / "out", "task=cifar10", f"data.root={tmp_path / 'data'}",
                   "task.data.val_size=20", "algo=fp32")  # fmt: skip
    with pytest.raises(BibenchError, match=r"val_size must be in 0\.\.19 .* got 20"):
        train(cfg)
    assert not list((tmp_path / "out").rglob("result.json"))


def test_missing_dataset_is_bad_input_before_any_record(tmp_path):
    cfg = tiny_cfg(tmp_path, "task=cifar10", f"data.root={tmp_path / 'nowhere'}")
    with pytest.raises(BibenchError, match="CIFAR-10 not found at"):
        train(cfg)
    assert not list(tmp_path.rglob("result.json"))


@pytest.mark.slow
def test_a_sweep_checks_data_once_and_runs_the_points_once_the_data_is_there(tmp_path):
    data = tmp_path / "data"
    args = ["sweep", "task=cifar10", "algo=fp32,bnn", *QUICK, f"data.root={data}",
            "task.data.val_size=8", f"paths.outputs={tmp_path / 'out'}"]  # fmt: skip
    refused = bibench(*args, cwd=tmp_path)
    assert refused.returncode == 2
    line = one_line_error(refused.stderr)
    assert line.count("CIFAR-10 not found") == 1 and "2 of 2 grid points cannot run" in line
    assert not list(tmp_path.rglob("result.json"))
    write_cifar10_demo(data, train=40, test=20)
    done = bibench(*args, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    assert len(list((tmp_path / "out").rglob("result.json"))) == 2
    assert "2/2 jobs done" in done.stderr  # the final progress line


def test_a_sweep_says_how_many_failed_points_it_skips(tmp_path):
    from bibench_cli.engine.sweep import execute, plan

    cfg = tiny_cfg(tmp_path, "algo=fp32", "retry_failed=false")
    write_record(RunRecord(**resolve(cfg).fields, status="failed", error="boom"), resolve(cfg).dir)
    planned = plan([["algo=fp32"]], lambda point: cfg)
    assert planned.failed_before == 1 and planned.already_done == {0}
    messages = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("builtins.print", lambda *a, **k: messages.append(" ".join(map(str, a))))
        execute(planned, lambda: [])
    assert any("1 of them failed before" in m and "retry_failed=true" in m for m in messages)


# --- 8: bibench robustness goes on past a broken run ---------------------------------------


@pytest.fixture(scope="module")
def two_finished_runs(tmp_path_factory) -> list[Path]:
    root = tmp_path_factory.mktemp("robust")
    paths = []
    for algo in ("bnn", "xnor"):
        result = train(tiny_cfg(root, f"algo={algo}", "init=scratch"))
        assert result.record.status == "completed", result.record.error
        paths.append(result.path)
    return paths


def test_robustness_goes_on_past_a_broken_run(two_finished_runs, tmp_path, capsys):
    root = tmp_path / "runs"
    copies = []
    for path in two_finished_runs:
        target = root / path.parent.name
        shutil.copytree(path.parent, target)
        copies.append(target)
    (copies[0] / "model.pt").write_bytes(b"not a checkpoint")
    assert cli(["robustness", str(root), "--seed", "1"]) == 1
    err = capsys.readouterr().err
    failed = [line for line in err.splitlines() if line.startswith("failed")]
    assert len(failed) == 1 and str(copies[0]) in failed[0] and "cannot be read" in failed[0]
    assert read_record(copies[1]).corruption["results"]  # the other run was evaluated
    assert not read_record(copies[0]).corruption


def test_robustness_on_a_path_without_records_is_bad_input(tmp_path, capsys):
    assert cli(["robustness", str(tmp_path)]) == 2
    assert "no run records under" in one_line_error(capsys.readouterr().err)


def test_eval_corruptions_on_a_completed_run_adds_them_to_its_record(tmp_path):
    cfg = tiny_cfg(tmp_path, "algo=fp32")
    first = train(cfg)
    assert first.record.corruption == {}
    again = train(tiny_cfg(tmp_path, "algo=fp32", "eval.corruptions=true"))
    assert again.skipped and again.record.corruption["clean"] >= 0
    on_disk = read_record(first.path)
    assert len(on_disk.corruption["results"]) == 95 and on_disk.metrics == first.record.metrics


# --- 13 and the smaller items ---------------------------------------------------------------


def test_the_thread_count_is_set_and_recorded(tmp_path):
    import torch

    record = train(tiny_cfg(tmp_path, "algo=fp32", "trainer.threads=1")).record
    assert record.threads == 1 and torch.get_num_threads() == 1
    assert "threads" not in json.dumps(resolve(tiny_cfg(tmp_path, "trainer.threads=2")).fields)


def test_a_plugin_algorithm_is_recorded_under_its_own_name(tmp_path):
    cfg = tiny_cfg(tmp_path, "algo=bnn", "algo.name=plugin_algo.halfsign:ALGORITHM", "init=scratch")
    result = train(cfg)
    assert result.record.status == "completed", result.record.error
    assert result.record.algo == "halfsign" and "/halfsign/" in str(result.path)


def test_train_prints_the_fp32_baseline_it_started_from(tmp_path):
    result = train(tiny_cfg(tmp_path, "algo=bnn"))
    line = summary_line(result)
    assert "fine-tuned from FP32" in line and result.baseline.run_id == result.record.baseline_id


def test_a_process_waiting_for_a_run_says_what_it_waits_for(tmp_path, caplog):
    identity = resolve(tiny_cfg(tmp_path))
    held, release = threading.Event(), threading.Event()

    def holder() -> None:
        with run_lock(identity):
            held.set()
            release.wait(30)

    thread = threading.Thread(target=holder)
    thread.start()
    held.wait(30)
    threading.Timer(0.5, release.set).start()
    with caplog.at_level(logging.INFO, logger="bibench"), run_lock(identity):
        pass
    thread.join()
    assert f"another process is running {identity.subdir}" in caplog.text


def test_list_piped_into_head_prints_no_traceback(tmp_path):
    done = subprocess.run(f"{' '.join(BIBENCH)} list | head -1", shell=True, cwd=tmp_path,
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    assert done.stdout.startswith("Algorithms") and "Traceback" not in done.stderr


def test_checks_of_a_grid_point_are_the_runs_own(tmp_path):
    with pytest.raises(BibenchError, match="needs the FP32 run as teacher|has no subtasks"):
        check_runnable(compose_config("task.subtask=cola"), data=False)


# --- 4, 5, 7: kills, interrupts, full and read-only disks (subprocesses) --------------------

LONG = ["algo=fp32", "task.epochs=12", "trainer.limit_train_batches=2",
        "trainer.limit_val_batches=1", "trainer.limit_test_batches=1"]  # fmt: skip


def _start(tmp_path: Path, *args: str, **popen) -> subprocess.Popen:
    command = [*BIBENCH, "train", *LONG, *args, f"paths.outputs={tmp_path / 'out'}"]
    env = {**os.environ, "PYTHONPATH": str(TESTS)}
    return subprocess.Popen(command, cwd=tmp_path, env=env, text=True, **popen)


def _checkpoint(tmp_path: Path, where: str = "") -> Path | None:
    return next((tmp_path / "out").glob(f"**/{where}checkpoints/last.ckpt"), None)


@pytest.mark.slow
def test_ctrl_c_marks_the_record_interrupted_and_the_same_command_resumes(tmp_path):
    proc = _start(tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    wait_for(lambda: _checkpoint(tmp_path) is not None, what="a checkpoint")
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err[-3000:]
    assert "interrupted; run the same command to resume" in err
    record = read_record(next((tmp_path / "out").rglob("result.json")))
    assert record.status == "interrupted"
    resumed = _start(tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    out, _ = resumed.communicate(timeout=600)
    assert resumed.returncode == 0 and "resuming the interrupted run" in out
    record = read_record(next((tmp_path / "out").rglob("result.json")))
    assert record.status == "completed" and record.attempts == 2


@pytest.mark.slow
def test_a_killed_forced_rerun_keeps_the_completed_result(tmp_path):
    args = ("task.epochs=3",)
    first = _start(tmp_path, *args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    assert first.wait(timeout=600) == 0
    result = next((tmp_path / "out").rglob("result.json"))
    record_bytes, model_bytes = result.read_bytes(), (result.parent / "model.pt").read_bytes()
    forced = _start(tmp_path, *args, "force=true", stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL)  # fmt: skip
    wait_for(lambda: _checkpoint(tmp_path, ".rerun/") is not None, what="the re-run's checkpoint")
    forced.kill()
    forced.wait()
    assert result.read_bytes() == record_bytes  # still the completed record, untouched
    assert (result.parent / "model.pt").read_bytes() == model_bytes
    again = _start(tmp_path, *args, "force=true", stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)  # fmt: skip
    assert again.wait(timeout=600) == 0
    replaced = read_record(result)
    assert replaced.status == "completed" and replaced.finished_at > json.loads(record_bytes)[
        "finished_at"] and not (result.parent / ".rerun").exists()  # fmt: skip


@pytest.mark.slow
def test_a_full_disk_ends_in_one_line_with_the_record_failed_and_no_temp_file(tmp_path):
    def small_files() -> None:  # a 64 KiB file-size limit: records fit, checkpoints do not
        resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, 64 * 1024))

    proc = _start(tmp_path, "task.epochs=1", stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                  preexec_fn=small_files)  # fmt: skip
    _, err = proc.communicate(timeout=600)
    assert proc.returncode == 2
    assert "cannot write to" in one_line_error(err) and "File too large" in err
    record = read_record(next((tmp_path / "out").rglob("result.json")))
    assert record.status == "failed" and "cannot write to" in record.error
    assert not [p for p in (tmp_path / "out").rglob("*") if p.name.endswith(".tmp")]


@pytest.mark.slow
def test_a_read_only_outputs_folder_is_one_line(tmp_path):
    outputs = tmp_path / "readonly"
    outputs.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=1m", "none", str(outputs)],
                             capture_output=True)  # fmt: skip
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a read-only file system here: {mounted.stderr!r}")
    try:
        done = bibench("train", *QUICK, f"paths.outputs={outputs}", cwd=tmp_path)
    finally:
        subprocess.run(["umount", str(outputs)], check=True)
    assert done.returncode == 2
    assert "Read-only file system" in one_line_error(done.stderr)


@pytest.mark.slow
def test_hydra_sweep_dir_is_where_the_sweep_writes_reads_and_reuses(tmp_path):
    done = bibench("sweep", "algo=fp32,bnn", *QUICK, f"hydra.sweep.dir={tmp_path / 'elsewhere'}",
                   f"paths.outputs={tmp_path / 'ignored'}", cwd=tmp_path)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    records = [read_record(p) for p in (tmp_path / "elsewhere").rglob("result.json")]
    assert sorted(r.algo for r in records) == ["bnn", "fp32"]  # FP32 trained once, reused
    assert "missing" not in done.stderr and not (tmp_path / "ignored").exists()


@pytest.mark.slow
def test_joblib_jobs_share_the_cores_instead_of_oversubscribing_them(tmp_path):
    launcher = ("hydra/launcher=joblib", "hydra.launcher.n_jobs=2")
    done = bibench("sweep", "algo=fp32", "seed=0,1", *QUICK, *launcher,
                   f"paths.outputs={tmp_path}", cwd=tmp_path)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    expected = max(1, len(os.sched_getaffinity(0)) // 2)
    assert {read_record(p).threads for p in tmp_path.rglob("result.json")} == {expected}


@pytest.mark.slow
def test_a_launcher_that_cannot_start_is_one_line_after_the_summary(tmp_path):
    done = bibench("sweep", "algo=fp32", *QUICK, "hydra/launcher=submitit_slurm",
                   f"paths.outputs={tmp_path}", cwd=tmp_path)  # fmt: skip
    assert done.returncode == 2
    assert "the launcher failed" in done.stderr and "Traceback" not in done.stderr
