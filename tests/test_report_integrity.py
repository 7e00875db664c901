"""Every number in a report is traceable to the runs it came from (integrity issue, items
1-3): cells pool one recipe, the baseline is the FP32 run the cell started from, a run
counts once, debug runs stay out, clean and corrupted accuracies come from one evaluation,
and a worse score never raises an overall metric. Records are written to disk as the
engine writes them (run ids included)."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import pytest
from conftest import compose_config, write_runs

from bibench_cli.commands.report import main as report
from bibench_cli.report.collect import collect
from bibench_cli.runs.identity import resolve
from bibench_cli.tracks import all_tracks, quadratic_mean


def run(algo: str, value: float, *, recipe: str, seed: int = 0, **fields) -> dict:
    """A completed cifar10/resnet20 record of ``recipe`` (its epochs name it)."""
    epochs = int(recipe.removeprefix("e"))
    return {
        "algo": algo, "task": "cifar10", "arch": "resnet20", "family": "cnn", "metric": "acc",
        "primary": value, "seed": seed, "epochs": epochs, "optimizer": "adam", "lr": 1e-3,
        "scheduler": "cosine", "batch_size": 128, "run_id": f"{algo}-{recipe}-s{seed}",
        "recipe_id": f"{algo}-{recipe}", "pair_id": f"pair-{recipe}",
        "finished_at": f"2026-01-01T00:00:{seed:02d}", **fields,
    }  # fmt: skip


def tracks(root: Path, **options) -> dict[tuple[str, str], object]:
    frame = collect([root]).frame
    return {(t.experiment, t.key): t for t in all_tracks(frame, **options)}


def notes(track) -> str:
    return " | ".join(note.text for note in track.footnotes)


def test_a_cell_pools_one_recipe_and_names_what_it_left_out(tmp_path):
    write_runs(tmp_path, [
        run("fp32", 90.0, recipe="e15"),
        run("fp32", 80.0, recipe="e8"),
        run("fp32", 50.0, recipe="e1"),  # an unrelated FP32 run: never a baseline here
        run("bnn", 60.0, recipe="e15", baseline_id="fp32-e15-s0"),
        run("bnn", 40.0, recipe="e8", seed=0, baseline_id="fp32-e8-s0"),
        run("bnn", 44.0, recipe="e8", seed=1, baseline_id="fp32-e8-s0"),
    ])  # fmt: skip
    task = tracks(tmp_path)[("default", "task")]
    # the e8 recipe has more runs: its seeds are pooled and divided by its own FP32 run
    assert task.values.loc["CIFAR10 (acc)", "bnn"] == pytest.approx(100 * 42 / 80)
    assert task.counts.loc["CIFAR10 (acc)", "bnn"] == 2
    assert "kept adam lr 0.001 cosine, 8 epochs" in notes(task)
    assert "left out adam lr 0.001 cosine, 15 epochs, batch 128 (1 runs)" in notes(task)
    fp32 = tracks(tmp_path)[("default", "fp32")]
    assert fp32.values["fp32"].tolist() == [80.0] and fp32.counts["fp32"].tolist() == [1]


def test_experiments_are_reported_apart_and_the_fp32_run_is_found_in_any_of_them(tmp_path):
    write_runs(tmp_path, [
        run("fp32", 90.0, recipe="e15", experiment="smoke"),
        run("bnn", 45.0, recipe="e15", experiment="other", baseline_id="fp32-e15-s0"),
        run("bnn", 81.0, recipe="e8", experiment="smoke", baseline_id="missing"),
    ])  # fmt: skip
    found = tracks(tmp_path)
    assert found[("other", "task")].values.loc["CIFAR10 (acc)", "bnn"] == pytest.approx(50.0)
    smoke = found[("smoke", "task")]
    assert math.isnan(smoke.values.loc["CIFAR10 (acc)", "bnn"])  # its FP32 run is not there
    assert "no FP32 baseline" in notes(smoke)
    only = tracks(tmp_path, experiment="other")
    assert {experiment for experiment, _ in only} == {"other"}


def test_runs_from_scratch_pair_with_the_fp32_runs_of_the_same_request(tmp_path):
    write_runs(tmp_path, [
        *[run("fp32", v, recipe="e15", seed=s) for s, v in enumerate([88.0, 92.0])],
        *[run("bnn", v, recipe="e15", seed=s) for s, v in enumerate([40.0, 50.0])],
        run("fp32", 10.0, recipe="e15", seed=0, experiment="elsewhere"),  # not this experiment
    ])  # fmt: skip
    task = tracks(tmp_path)[("default", "task")]
    assert task.values.loc["CIFAR10 (acc)", "bnn"] == pytest.approx(100 * 45 / 90)


def test_equal_resolved_recipes_are_one_run_whatever_the_option_names():
    auto = resolve(compose_config("algo=bnn", "optim=auto", "sched=auto"))
    named = resolve(compose_config("algo=bnn", "optim=adam", "sched=cosine"))
    assert auto.run_id == named.run_id and auto.subdir == named.subdir
    # a setting the chosen optimizer ignores does not split a run either
    ignored = resolve(compose_config("algo=bnn", "optim=adam", "optim.momentum=0.5"))
    assert ignored.run_id == named.run_id
    scaled = resolve(compose_config("algo=bnn", "optim=adam", "optim.lr_scale=0.1"))
    lowered = resolve(compose_config("algo=bnn", "optim=adam", "optim.lr=1e-4"))
    assert scaled.run_id == lowered.run_id
    seeds = [resolve(compose_config("algo=bnn", f"seed={s}")) for s in (0, 1)]
    assert seeds[0].run_id != seeds[1].run_id and seeds[0].fields["recipe_id"] == seeds[1].fields[
        "recipe_id"]  # fmt: skip


def test_one_run_counts_once_however_often_it_is_found(tmp_path, capsys):
    write_runs(
        tmp_path / "a",
        [
            run("fp32", 90.0, recipe="e15"),
            run("bnn", 60.0, recipe="e15", baseline_id="fp32-e15-s0"),
        ],
    )
    shutil.copytree(tmp_path / "a", tmp_path / "copy")  # the same records under a second path
    assert report([str(tmp_path), str(tmp_path / "a"), "--count", "--format", "markdown"]) == 0
    out = capsys.readouterr().out
    assert "66.67 (n=1)" in out


def test_debug_runs_are_marked_and_left_out_unless_asked(tmp_path, capsys):
    debug = resolve(compose_config("algo=bnn", "trainer=debug"))
    assert debug.fields["debug"] and "-debug-" in debug.subdir
    assert not resolve(compose_config("algo=bnn", "trainer.limit_val_batches=0")).fields["debug"]
    assert resolve(compose_config("algo=bnn", "trainer.limit_train_batches=0.5")).fields["debug"]
    write_runs(
        tmp_path,
        [
            run("fp32", 90.0, recipe="e1", debug=True),
            run("bnn", 60.0, recipe="e1", debug=True, baseline_id="fp32-e1-s0"),
        ],
    )
    assert report([str(tmp_path)]) == 1
    assert "--include-debug" in capsys.readouterr().err
    found = tracks(tmp_path, include_debug=True)
    assert found[("default", "task")].values.loc["CIFAR10 (acc)", "bnn"] == pytest.approx(
        100 * 60 / 90
    )


def test_tables_say_what_they_show(tmp_path, capsys):
    write_runs(
        tmp_path,
        [
            run("fp32", 90.0, recipe="e15"),
            run("bnn", 60.0, recipe="e15", baseline_id="fp32-e15-s0"),
        ],
    )
    assert report([str(tmp_path), "--count"]) == 0
    out = capsys.readouterr().out
    assert "Learning Task: relative to FP32, 100 · A_bi / A_fp32 (%) [experiment: default]" in out
    assert "CIFAR10 (acc)" in out and "66.67 (n=1)" in out
    assert "FP32 baselines: absolute value of each cell's metric (%)" in out
    assert "CIFAR10 resnet20 (acc)" in out and "90.00 (n=1)" in out


def test_clean_and_corrupted_accuracy_come_from_one_evaluation(tmp_path):
    """The clean accuracy Lightning logged is float32-rounded; the corruption evaluation's is
    not. An unchanged prediction set must give G = 0, not a ratio of a million."""
    exact = 100 * 29 / 30  # 96.666...
    rounded = 96.66666412353516  # the same accuracy through a float32 metric
    corruption = {"source": "generated", "clean": exact,
                  "results": {"noise/1": exact, "blur/1": exact - 10}}  # fmt: skip
    write_runs(tmp_path, [
        run("fp32", rounded, recipe="e15", corruption={**corruption,
                                                       "results": {"noise/1": exact - 5,
                                                                   "blur/1": exact - 20}}),
        run("bnn", rounded, recipe="e15", baseline_id="fp32-e15-s0", corruption=corruption),
    ])  # fmt: skip
    robust = tracks(tmp_path)[("default", "robust")]
    assert robust.values.loc["CIFAR10-C", "bnn"] == pytest.approx(100 * 20 / 10)  # blur only
    assert "G_bi <= 0 (no accuracy lost) on 1 entries, left out: resnet20 noise/1" in notes(robust)


def test_a_worse_score_never_raises_an_overall_metric(tmp_path):
    """MCC can be negative: r is clipped at 0 before anything is squared, and a cell whose
    FP32 baseline is <= 0 has no defined ratio."""
    write_runs(tmp_path, [
        run("fp32", 60.0, recipe="e15", task="glue", subtask="cola", metric="mcc"),
        run("bnn", -50.0, recipe="e15", task="glue", subtask="cola", metric="mcc",
            baseline_id="fp32-e15-s0"),
        run("xnor", 0.0, recipe="e15", task="glue", subtask="cola", metric="mcc",
            baseline_id="fp32-e15-s0"),
        run("fp32", 90.0, recipe="e9", task="glue", subtask="sst2"),
        run("bnn", 81.0, recipe="e9", task="glue", subtask="sst2", baseline_id="fp32-e9-s0"),
        run("xnor", 81.0, recipe="e9", task="glue", subtask="sst2", baseline_id="fp32-e9-s0"),
        run("fp32", -5.0, recipe="e7", task="glue", subtask="stsb", metric="pearson"),
        run("bnn", 30.0, recipe="e7", task="glue", subtask="stsb", metric="pearson",
            baseline_id="fp32-e7-s0"),
        run("fp32", 0.0, recipe="e2", task="voc07", metric="map"),
        run("bnn", 0.0, recipe="e2", task="voc07", metric="map", baseline_id="fp32-e2-s0"),
    ])  # fmt: skip
    task = tracks(tmp_path)[("default", "task")]
    row = "GLUE (acc, mcc)"  # the metrics of the cells it scores
    assert list(task.values.index) == [row, "OM_task"]  # VOC07's baseline is 0: no row
    assert task.values.loc[row, "bnn"] == pytest.approx((0 + 90) / 2)  # stsb left out
    assert task.values.loc[row, "xnor"] == pytest.approx((0 + 90) / 2)
    assert task.values.loc["OM_task", "bnn"] <= task.values.loc["OM_task", "xnor"]
    assert quadratic_mean([-50, 90]) > quadratic_mean([0, 90])  # what the clip prevents
    assert "binarized score <= 0 counted as r = 0" in notes(task)
    assert "FP32 baseline <= 0 (glue/stsb/resnet20, voc07/resnet20)" in notes(task)
    assert "no FP32 baseline" not in notes(task)  # it has one, the note above says why
