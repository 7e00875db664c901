"""``bibench sweep``: launchers, fault isolation, resume after SIGKILL, no-op re-runs."""

from __future__ import annotations

import os
import signal
import subprocess
import time

import pytest
from conftest import BIBENCH, QUICK, bibench

from bibench_cli.runs.record import read_record

pytestmark = pytest.mark.slow

GRID = ["algo=fp32,bnn", "seed=0,1", *QUICK]


def records(outputs):
    return {path: read_record(path) for path in sorted(outputs.rglob("result.json"))}


def assert_grid_completed(outputs, expected=4):
    found = records(outputs)
    assert len(found) == expected, sorted(found)
    assert all(r.status == "completed" for r in found.values()), found
    return found


@pytest.mark.parametrize(
    "launcher",
    [[], ["hydra/launcher=joblib", "hydra.launcher.n_jobs=2"], ["hydra/launcher=submitit_local"]],
    ids=["basic", "joblib", "submitit_local"],
)
def test_four_point_grid_completes_on_every_launcher(tmp_path, launcher):
    done = bibench("sweep", *GRID, *launcher, f"paths.outputs={tmp_path}", cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    found = assert_grid_completed(tmp_path)
    # the FP32 dependency of the bnn jobs is the fp32 seed-0 grid point, trained once
    bnn = [r for r in found.values() if r.algo == "bnn"]
    assert len({r.init_checkpoint for r in bnn}) == 1
    assert "sweep summary" in done.stderr


def test_identical_rerun_trains_nothing(tmp_path):
    first = bibench("sweep", *GRID, f"paths.outputs={tmp_path}", cwd=tmp_path)
    assert first.returncode == 0, first.stderr[-3000:]
    before = {p: p.stat().st_mtime_ns for p in tmp_path.rglob("result.json")}
    again = bibench("sweep", *GRID, f"paths.outputs={tmp_path}", cwd=tmp_path)
    assert again.returncode == 0
    assert {p: p.stat().st_mtime_ns for p in tmp_path.rglob("result.json")} == before
    assert "epoch 1/1" not in again.stderr + again.stdout
    assert "4 already done" in again.stderr


def test_a_diverging_job_does_not_stop_the_others_and_fails_the_sweep(tmp_path):
    done = bibench(
        "sweep", "algo=fp32", "optim=sgd", "optim.lr=0.1,1e30", *QUICK,
        f"paths.outputs={tmp_path}", cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 1
    statuses = sorted(r.status for r in records(tmp_path).values())
    assert statuses == ["completed", "diverged"]
    assert "runs that did not complete" in done.stderr


def test_sweep_killed_midway_then_rerun_completes_only_the_missing_points(tmp_path):
    command = [*BIBENCH, "sweep", *GRID, f"paths.outputs={tmp_path}"]
    proc = subprocess.Popen(
        command, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        if any(r.status == "completed" for r in records(tmp_path).values()):
            break
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    finished = {
        p: p.stat().st_mtime_ns for p, r in records(tmp_path).items() if r.status == "completed"
    }
    assert 1 <= len(finished) < 4

    rerun = bibench("sweep", *GRID, f"paths.outputs={tmp_path}", cwd=tmp_path)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert_grid_completed(tmp_path)
    for path, mtime in finished.items():
        assert path.stat().st_mtime_ns == mtime  # finished runs were not trained again


def test_invalid_grid_points_are_rejected_before_anything_runs(tmp_path):
    done = bibench(
        "sweep", "arch=resnet20,vggsmall", "task=imagenet", f"paths.outputs={tmp_path}",
        cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 2
    assert "arch=vggsmall" in done.stderr and "nothing was run" in done.stderr
    assert not list(tmp_path.rglob("result.json"))


def test_unknown_experiment_lists_the_available_ones(tmp_path):
    done = bibench("sweep", "experiment=nope", f"paths.outputs={tmp_path}", cwd=tmp_path)
    assert done.returncode != 0
    assert "smoke" in done.stderr and "sensitivity" in done.stderr
