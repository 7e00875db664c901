"""``bibench report``: collecting records and CSVs (skip-and-count), formats, plots, imports."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import write_runs

from bibench_cli.commands.report import main
from bibench_cli.report.collect import CSV_COLUMNS, collect
from bibench_cli.tracks import all_tracks

CSV_HEADER = ",".join(CSV_COLUMNS[:14]) + "\n"  # the optional columns after these may be left out


def run(algo: str, task: str, arch: str, acc: float, **extra) -> dict:
    return {"algo": algo, "task": task, "arch": arch, "primary": acc, **extra}


@pytest.fixture
def messy(tmp_path: Path) -> Path:
    """Two good records, one failed run, five broken files, a results CSV with one bad row."""
    write_runs(
        tmp_path,
        [
            run("fp32", "cifar10", "resnet18", 90.0),
            run("bnn", "cifar10", "resnet18", 60.0),
            run("bnn", "cifar10", "resnet18", 0.0, status="failed", error="boom"),
        ],
    )
    good = json.loads((tmp_path / "run0" / "result.json").read_text())
    broken = {
        "bad_json": "{not json",
        "truncated": (tmp_path / "run0" / "result.json").read_text()[:120],
        "wrong_status": json.dumps({**good, "status": "finished"}),
        "missing_fields": json.dumps({k: v for k, v in good.items() if k != "algo"}),
        "no_primary": json.dumps({**good, "primary": None}),
    }
    for name, text in broken.items():
        (tmp_path / name).mkdir()
        (tmp_path / name / "result.json").write_text(text)
    (tmp_path / "external.csv").write_text(
        CSV_HEADER
        + ",xnor,resnet18,cifar10,,,,adam,0.001,cosine,0,72.0,,\n"
        + ",xnor,resnet18,cifar10,,,,adam,0.001,cosine,1,not-a-number,,\n"
        + "paper,fda,mlp9,cifar10,,,,adam,0.001,cosine,0,50,,\n"  # unknown arch, no family
    )
    (tmp_path / "run0" / "metrics.csv").write_text("step,loss\n1,0.5\n")  # a log: ignored
    return tmp_path


def test_collect_skips_and_counts_bad_inputs(messy: Path):
    collection = collect([messy])
    reasons = sorted(
        (Path(s.where.split(":")[0]).parent.name, s.reason) for s in collection.skipped
    )
    assert reasons == sorted(
        [
            ("bad_json", "invalid JSON"),
            ("missing_fields", "invalid record"),
            ("no_primary", "invalid record"),
            ("truncated", "invalid JSON"),
            ("wrong_status", "invalid record"),
            (messy.name, "bad CSV row"),
            (messy.name, "bad CSV row"),
        ]
    )
    assert collection.statuses == {"completed": 2, "failed": 1, "csv": 1}
    assert collection.summary() == (
        "read 3 records (2 completed, 1 failed), 1 CSV rows from 1 files; "
        "skipped 7 (2 bad CSV row, 2 invalid JSON, 3 invalid record)"
    )
    bad_rows = [s for s in collection.skipped if s.reason == "bad CSV row"]
    assert [s.where.rsplit(":", 1)[1] for s in bad_rows] == ["3", "4"]
    assert "not a bibench architecture" in bad_rows[1].detail


def test_failed_runs_and_csv_rows_feed_the_metrics(messy: Path):
    (track,) = [t for t in all_tracks(collect([messy]).frame) if t.key == "task"]
    assert track.values.loc["CIFAR10", "bnn"] == pytest.approx(100 * 60 / 90)  # failed: ignored
    assert track.values.loc["CIFAR10", "xnor"] == pytest.approx(100 * 72 / 90)  # from the CSV


def test_explicit_non_results_csv_is_reported(tmp_path: Path):
    log = tmp_path / "metrics.csv"
    log.write_text("step,loss\n1,0.5\n")
    skipped = collect([log, tmp_path / "nowhere"]).skipped
    assert sorted(s.reason for s in skipped) == ["missing path", "not a results CSV"]
    assert collect([tmp_path]).skipped == []  # found by walking: just not ours


def test_csv_family_column_and_experiment_default(tmp_path: Path):
    (tmp_path / "paper.csv").write_text(
        CSV_HEADER
        + ",fp32,bert,glue,sst2,,,,,,,90,,transformer\n"
        + ",bnn,bert,glue,sst2,,,,,,,45,,transformer\n"
        + "sensitivity,bnn,bert,glue,sst2,,,,,,,10,,transformer\n"
    )
    frame = collect([tmp_path]).frame
    assert sorted(frame["experiment"]) == ["default", "default", "sensitivity"]
    tracks = {t.key: t for t in all_tracks(frame)}
    assert tracks["arch"].values.loc["Transformers", "bnn"] == pytest.approx(50.0)


@pytest.fixture(scope="module")
def outputs(tmp_path_factory) -> Path:
    """A small benchmark: accuracy, corruption, sensitivity and complexity runs."""
    root = tmp_path_factory.mktemp("outputs")
    corruption = {"source": "cifar10-c", "clean": 0, "results": {"noise/1": 50.0}}
    runs = [
        run("fp32", "cifar10", "resnet18", 90.0, corruption={**corruption, "clean": 90.0}),
        run("bnn", "cifar10", "resnet18", 60.0, r_c=13.0, r_s=12.0),
        run("bnn", "imagenet", "resnet18", 50.0),  # no FP32 baseline: a row of "—"
        run("xnor", "cifar10", "resnet18", 70.0, r_c=13.2, r_s=12.2,
            corruption={**corruption, "clean": 70.0}),
    ]  # fmt: skip
    for algo, base in (("fp32", 90.0), ("bnn", 60.0), ("xnor", 70.0)):
        for optimizer, lr, seed in [("adam", 1e-4, 0), ("adam", 1e-3, 1), ("sgd", 1e-2, 0)]:
            runs.append(
                run(algo, "cifar10", "resnet18", base + 1000 * lr + seed, experiment="sensitivity",
                    optimizer=optimizer, lr=lr, scheduler="cosine", seed=seed,
                    train_time_s=100.0 if algo == "fp32" else 150.0)
            )  # fmt: skip
    return write_runs(root, runs)


@pytest.mark.parametrize(
    ("fmt", "probe"),
    [
        ("markdown", "| OM_task |"),
        ("csv", "task,OM_task,bnn,"),
        ("latex", r"\toprule"),
        ("json", '"OM_robust"'),
        ("terminal", "OM_train"),
    ],
)
def test_cli_writes_each_format(outputs: Path, tmp_path: Path, fmt: str, probe: str):
    assert main([str(outputs), "--format", fmt, "--out", str(tmp_path), "--std"]) == 0
    (written,) = tmp_path.glob("report.*")
    assert probe in written.read_text()


def test_cli_json_is_complete(outputs: Path, tmp_path: Path, capsys):
    assert main([str(outputs), "--format", "json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert [(t["experiment"], t["key"]) for t in payload["tracks"]] == [
        ("default", "task"), ("default", "fp32"), ("default", "arch"), ("default", "robust"),
        ("default", "comp"), ("sensitivity", "train"),
    ]  # fmt: skip
    assert payload["tracks"][1]["values"] == {"CIFAR10 resnet18 ()": {"fp32": 90.0}}
    assert payload["tracks"][0]["values"]["CIFAR10"] == {
        "bnn": pytest.approx(100 * 60 / 90),
        "xnor": pytest.approx(100 * 70 / 90),
    }
    assert payload["tracks"][3]["values"]["CIFAR10-C"] == {"xnor": 200.0}
    assert payload["summary"]["statuses"] == {"completed": 13}


def test_cli_terminal_highlights_and_summarises(outputs: Path, capsys):
    assert main([str(outputs)]) == 0
    out = capsys.readouterr().out
    assert "Learning Task: relative to FP32, 100 · A_bi / A_fp32 (%) [experiment: default]" in out
    assert "Training Consumption" in out and "[experiment: sensitivity]" in out
    assert "│ ImageNet¹ │     — │     — │" in out
    assert "read 13 records (13 completed); skipped 0" in out


def test_cli_plots_are_pngs(outputs: Path, tmp_path: Path):
    assert main([str(outputs), "--format", "csv", "--out", str(tmp_path), "--plots"]) == 0
    names = {p.name for p in tmp_path.glob("*.png")}
    expected = {"relative_accuracy_default.png", "om_task_default.png", "om_train_sensitivity.png"}
    assert {"sensitivity.png", *expected} <= names
    for path in tmp_path.glob("*.png"):
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 1000


def test_cli_empty_directory_and_warnings(tmp_path: Path, capsys):
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "result.json").write_text("{")
    assert main([str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert err.count("warning: skipped") == 1 and "no completed runs" in err


def test_report_import_is_light():
    code = (
        "import sys, bibench_cli.commands.report; "
        "heavy = {'torch', 'lightning', 'pytorch_lightning', 'matplotlib', 'hydra'}; "
        "print(sorted(heavy & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
