"""Track metrics against hand-worked numbers, from run records written to disk.

Every expected value is worked out in the test from the raw accuracies, so a reader can check
the paper's formulas (section 3, eq. 2-9) line by line.
"""

from __future__ import annotations

import math
import statistics
from pathlib import Path

import pytest
from conftest import write_runs

from bibench_cli.report.collect import collect
from bibench_cli.tracks import TrackResult, all_tracks, quadratic_mean, setting_accuracy


def tracks_of(root: Path) -> dict[str, TrackResult]:
    return {track.key: track for track in all_tracks(collect([root]).frame)}


def notes(track: TrackResult) -> list[str]:
    return [note.text for note in track.footnotes]


def seeds(algo: str, task: str, arch: str, accs: list[float], **extra) -> list[dict]:
    return [
        {"algo": algo, "task": task, "arch": arch, "seed": seed, "primary": acc, **extra}
        for seed, acc in enumerate(accs)
    ]


def rel(bi: list[float], fp: list[float]) -> float:
    """r for one cell: seeds averaged first, then the ratio."""
    return 100 * statistics.mean(bi) / statistics.mean(fp)


def test_quadratic_mean_skips_missing_values():
    assert quadratic_mean([3.0, 4.0]) == pytest.approx(math.sqrt(12.5))
    assert quadratic_mean([3.0, float("nan")]) == 3.0
    assert math.isnan(quadratic_mean([]))


# Two tasks x two archs (CIFAR-10 on two CNNs), GLUE with subtasks on two transformers,
# two seeds where it matters; xnor never ran GLUE; ImageNet has no FP32 baseline at all.
ACCURACY_RUNS = [
    *seeds("fp32", "cifar10", "resnet18", [90, 92]),
    *seeds("bnn", "cifar10", "resnet18", [60, 62]),
    *seeds("xnor", "cifar10", "resnet18", [80, 82]),
    *seeds("fp32", "cifar10", "resnet20", [80, 80]),
    *seeds("bnn", "cifar10", "resnet20", [40, 44]),
    *seeds("xnor", "cifar10", "resnet20", [60, 60]),
    *seeds("fp32", "glue", "bert", [90], subtask="sst2", family="transformer"),
    *seeds("bnn", "glue", "bert", [45], subtask="sst2", family="transformer"),
    *seeds("fp32", "glue", "bert", [80], subtask="mrpc", family="transformer"),
    *seeds("bnn", "glue", "bert", [60], subtask="mrpc", family="transformer"),
    *seeds("fp32", "glue", "tinybert", [80], subtask="sst2", family="transformer"),
    *seeds("bnn", "glue", "tinybert", [72], subtask="sst2", family="transformer"),
    *seeds("bnn", "imagenet", "resnet18", [50]),
    # runs that must not count: another status, and the sensitivity experiment
    {"algo": "bnn", "task": "cifar10", "arch": "resnet18", "status": "failed", "primary": 1.0},
    *seeds("bnn", "cifar10", "resnet18", [5], experiment="sensitivity"),
]


@pytest.fixture(scope="module")
def accuracy(tmp_path_factory) -> dict[str, TrackResult]:
    return tracks_of(write_runs(tmp_path_factory.mktemp("acc"), ACCURACY_RUNS))


def test_learning_task_rows_and_om(accuracy):
    track = accuracy["task"]
    bnn_cifar = (rel([60, 62], [90, 92]) + rel([40, 44], [80, 80])) / 2
    bnn_glue = (rel([45], [90]) + rel([60], [80]) + rel([72], [80])) / 3  # 3 cells, one each
    xnor_cifar = (rel([80, 82], [90, 92]) + rel([60, 60], [80, 80])) / 2
    assert list(track.values.index) == ["CIFAR10", "ImageNet", "GLUE", "OM_task"]
    assert list(track.values.columns) == ["bnn", "xnor"]
    assert track.values.loc["CIFAR10", "bnn"] == pytest.approx(bnn_cifar)
    assert track.values.loc["GLUE", "bnn"] == pytest.approx(bnn_glue)
    assert track.values.loc["OM_task", "bnn"] == pytest.approx(
        math.sqrt((bnn_cifar**2 + bnn_glue**2) / 2)
    )
    assert track.values.loc["CIFAR10", "xnor"] == pytest.approx(xnor_cifar)
    assert math.isnan(track.values.loc["GLUE", "xnor"])
    assert track.values.loc["OM_task", "xnor"] == pytest.approx(xnor_cifar)


def test_learning_task_footnotes_name_what_is_missing(accuracy):
    assert notes(accuracy["task"]) == [
        "no FP32 baseline for resnet18: left out",
        "xnor: OM_task over 1 of 2 tasks (missing GLUE)",
    ]
    row_note = accuracy["task"].footnotes[0]
    assert (row_note.row, row_note.algo) == ("ImageNet", None)
    assert accuracy["task"].values.loc["ImageNet"].isna().all()


def test_learning_task_std_propagates_seed_spread(accuracy):
    def cell_std(bi: list[float], fp: list[float]) -> float:
        r = rel(bi, fp)
        spread = [statistics.stdev(x) / statistics.mean(x) if len(set(x)) > 1 else 0.0
                  for x in (bi, fp)]  # fmt: skip
        return r * math.hypot(*spread)

    expected = math.hypot(cell_std([60, 62], [90, 92]), cell_std([40, 44], [80, 80])) / 2
    assert accuracy["task"].std.loc["CIFAR10", "bnn"] == pytest.approx(expected)


def test_architecture_weighs_each_task_arch_pair_once(accuracy):
    track = accuracy["arch"]
    cnn_bnn = (rel([60, 62], [90, 92]) + rel([40, 44], [80, 80])) / 2
    bert = (rel([45], [90]) + rel([60], [80])) / 2  # two subtasks -> one pair
    transformer_bnn = (bert + rel([72], [80])) / 2
    assert list(track.values.index) == ["CNNs", "Transformers", "OM_arch"]
    assert track.values.loc["CNNs", "bnn"] == pytest.approx(cnn_bnn)
    assert track.values.loc["Transformers", "bnn"] == pytest.approx(transformer_bnn)
    assert track.values.loc["OM_arch", "bnn"] == pytest.approx(
        math.sqrt((cnn_bnn**2 + transformer_bnn**2) / 2)
    )
    assert "xnor: OM_arch over 1 of 2 families (missing Transformers)" in notes(track)


ROBUST_RUNS = [
    {"algo": algo, "task": "cifar10", "arch": "resnet20", "seed": seed, "primary": clean,
     "corruption": {"source": "cifar10-c", "clean": clean, "results": results}}
    for algo, seed, clean, results in [
        ("fp32", 0, 90, {"noise/1": 81, "blur/2": 86}),
        ("fp32", 1, 92, {"noise/1": 81, "blur/2": 86}),
        ("bnn", 0, 60, {"noise/1": 55, "blur/2": 60}),
        ("bnn", 1, 60, {"noise/1": 55, "blur/2": 62}),
        ("xnor", 0, 70, {"noise/1": 60, "blur/2": 65}),
    ]
]  # fmt: skip


def test_robustness_gap_ratio_and_non_positive_gaps(tmp_path):
    track = tracks_of(write_runs(tmp_path, ROBUST_RUNS))["robust"]
    g_fp = {"noise/1": 91 - 81, "blur/2": 91 - 86}  # clean seeds averaged: 91
    g_xnor = {"noise/1": 70 - 60, "blur/2": 70 - 65}
    xnor = statistics.mean(100 * g_fp[k] / g_xnor[k] for k in g_fp)
    bnn = 100 * g_fp["noise/1"] / (60 - 55)  # blur/2: G_bi = 60 - 61 < 0 is left out
    assert list(track.values.index) == ["CIFAR10-C", "OM_robust"]
    assert track.values.loc["CIFAR10-C", "xnor"] == pytest.approx(xnor)
    assert track.values.loc["CIFAR10-C", "bnn"] == pytest.approx(bnn)
    assert track.values.loc["OM_robust", "bnn"] == pytest.approx(bnn)
    assert notes(track) == [
        "bnn: G_bi <= 0 (no accuracy lost) on 1 entries, left out: resnet20 blur/2",
        "bnn: CIFAR10-C is a mean over 1 of 2 entries (missing resnet20 blur/2)",
    ]
    # the accuracy tracks see only the clean evaluations
    task = tracks_of(tmp_path)["task"]
    assert task.values.loc["CIFAR10", "bnn"] == pytest.approx(rel([60, 60], [90, 92]))


def _grid(algo: str, accs: list[float], times: list[float]) -> list[dict]:
    """Sensitivity runs: 2 optimizers x 2 seeds on resnet18/cifar10."""
    settings = [("adam", 0), ("adam", 1), ("sgd", 0), ("sgd", 1)]
    return [
        {"experiment": "sensitivity", "algo": algo, "task": "cifar10", "arch": "resnet18",
         "optimizer": opt, "lr": 1e-3, "scheduler": "cosine", "seed": seed, "primary": acc,
         "train_time_s": time}
        for (opt, seed), acc, time in zip(settings[: len(accs)], accs, times, strict=True)
    ]  # fmt: skip


def test_training_consumption_pools_std_over_all_runs(tmp_path):
    runs = [
        *_grid("fp32", [90, 92, 94, 96], [100, 100, 100, 100]),
        *_grid("bnn", [60, 70, 80, 90], [200, 200, 100, 100]),
        *_grid("xnor", [70], [120]),  # one run: no spread to divide by
        *seeds("fp32", "cifar10", "resnet18", [10]),  # accuracy-track run: not counted here
    ]
    track = tracks_of(write_runs(tmp_path, runs))["train"]
    # pooled over the 4 runs, not over the 2 optimizer means (which would give 2.83 / 14.1)
    sensitivity = 100 * statistics.stdev([90, 92, 94, 96]) / statistics.stdev([60, 70, 80, 90])
    time = 100 * 100 / statistics.mean([200, 200, 100, 100])
    assert sensitivity == pytest.approx(20.0)
    assert track.values.loc["Sensitivity", "bnn"] == pytest.approx(sensitivity)
    assert track.values.loc["Time Cost", "bnn"] == pytest.approx(time)
    assert track.values.loc["OM_train", "bnn"] == pytest.approx(
        math.sqrt((sensitivity**2 + time**2) / 2)
    )
    assert math.isnan(track.values.loc["Sensitivity", "xnor"])
    assert track.values.loc["OM_train", "xnor"] == pytest.approx(100 * 100 / 120)
    assert notes(track) == [
        "xnor: std undefined (fewer than 2 runs or no spread) on cifar10/resnet18",
        "xnor: OM_train over 1 of 2 components (missing Sensitivity)",
    ]


def test_complexity_averages_over_architectures(tmp_path):
    runs = [
        *seeds("bnn", "cifar10", "resnet18", [60], r_c=13.0, r_s=12.0),
        *seeds("bnn", "imagenet", "resnet18", [50], r_c=13.4, r_s=12.0),
        *seeds("bnn", "cifar10", "resnet20", [50], r_c=12.0, r_s=11.0),
        *seeds("xnor", "cifar10", "resnet18", [65], r_c=13.0, r_s=12.5),
        *seeds("fp32", "cifar10", "resnet18", [90], r_c=1.0, r_s=1.0),
    ]
    track = tracks_of(write_runs(tmp_path, runs))["comp"]
    compression = ((13.0 + 13.4) / 2 + 12.0) / 2  # per arch first, then over archs
    speedup = (12.0 + 11.0) / 2
    assert list(track.values.index) == ["Speedup", "Compression", "OM_comp"]
    assert list(track.values.columns) == ["bnn", "xnor"]
    assert track.values.loc["Compression", "bnn"] == pytest.approx(compression)
    assert track.values.loc["Speedup", "bnn"] == pytest.approx(speedup)
    assert track.values.loc["OM_comp", "bnn"] == pytest.approx(
        math.sqrt((compression**2 + speedup**2) / 2)
    )
    assert "xnor: Speedup is a mean over 1 of 2 architectures (missing resnet20)" in notes(track)


def test_inference_ratios_per_device(tmp_path):
    def measured(t_fp32: float, t_bi: float, s_fp32: float, s_bi: float) -> dict:
        """One inference entry as a run records it: both models timed side by side."""
        return {"t_fp32_s": t_fp32, "t_bi_s": t_bi, "s_fp32_mb": s_fp32, "s_bi_mb": s_bi,
                "speedup": t_fp32 / t_bi, "compression": s_fp32 / s_bi}  # fmt: skip

    runs = [
        {"algo": "bnn", "task": "cifar10", "arch": "resnet18", "primary": 50.0, "seed": seed,
         "inference": entries}
        for seed, entries in enumerate([
            {"openvino/pi4/1": measured(0.5, 0.1, 45.0, 3.0),
             "openvino/m1/1": measured(0.2, 0.05, 45.0, 3.0)},
            {"openvino/pi4/1": measured(0.5, 0.125, 45.0, 3.0)},  # a second seed on pi4
        ])
    ]  # fmt: skip
    track = tracks_of(write_runs(tmp_path, runs))["infer"]
    pi4 = (0.5 / 0.1 + 0.5 / 0.125) / 2  # seeds averaged per (arch, task, device) cell
    speedup, compression = (pi4 + 0.2 / 0.05) / 2, 45.0 / 3.0
    assert track.values.loc["Speedup", "bnn"] == pytest.approx(speedup)
    assert track.values.loc["Compression", "bnn"] == pytest.approx(compression)
    assert track.values.loc["OM_infer", "bnn"] == pytest.approx(
        math.sqrt((speedup**2 + compression**2) / 2)
    )


def test_tracks_without_inputs_are_absent(tmp_path):
    assert tracks_of(write_runs(tmp_path, seeds("fp32", "cifar10", "resnet18", [90]))) == {}


def test_two_ratio_om_names_a_missing_ratio(tmp_path):
    runs = seeds("bnn", "cifar10", "resnet18", [60], r_c=13.0)  # r_s never recorded
    track = tracks_of(write_runs(tmp_path, runs))["comp"]
    assert track.values.loc["OM_comp", "bnn"] == pytest.approx(13.0)
    assert notes(track) == ["bnn: OM_comp over 1 of 2 ratios (missing Speedup)"]


def test_setting_accuracy_orders_lr_scales_numerically(tmp_path):
    runs = [
        {"experiment": "sensitivity", "algo": "bnn", "task": "cifar10", "arch": "resnet18",
         "optimizer": "adam", "scheduler": "cosine", "lr": 1e-3 * scale, "lr_scale": scale,
         "seed": seed, "primary": acc}
        for scale, seed, acc in [(10, 0, 70.0), (0.1, 0, 50.0), (1, 0, 60.0), (1, 1, 62.0)]
    ]  # fmt: skip
    stats = setting_accuracy(collect([write_runs(tmp_path, runs)]).frame)
    lr = stats[stats["setting"] == "lr scale"]
    assert list(lr["choice"]) == ["0.1x", "1x", "10x"]
    assert list(lr["mean"]) == [50.0, 61.0, 70.0]
