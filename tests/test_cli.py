"""The ``bibench`` command line: fast help/list, Hydra pass-through, one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import QUICK, bibench

from bibench_cli import catalog

pytestmark = pytest.mark.slow


def test_help_and_list_do_not_import_torch_or_lightning():
    code = (
        "import sys, contextlib, io\n"
        "from bibench_cli.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()) as out:\n"
        "    main(['--help']); main(['list'])\n"
        "heavy = ('torch', 'pytorch_lightning', 'hydra', 'pandas')\n"
        "heavy = [m for m in heavy if m in sys.modules]\n"
        "print(heavy); print(out.getvalue())\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.splitlines()[0] == "[]"
    for group in ("algo", "arch", "task", "optim", "sched"):
        for name, description in catalog.list_options(group).items():
            assert f"{name}" in done.stdout and description in done.stdout


def test_unknown_command_names_it_and_lists_the_commands(tmp_path):
    done = bibench("trian", cwd=tmp_path)
    assert done.returncode == 2
    assert "'trian'" in done.stderr and "train" in done.stderr and "sweep" in done.stderr


def test_hydra_options_pass_through_unchanged(tmp_path):
    shown = bibench("train", "--cfg", "job", "algo=bnn", "seed=5", cwd=tmp_path)
    assert shown.returncode == 0 and "name: bnn" in shown.stdout and "seed: 5" in shown.stdout
    info = bibench("train", "--info", "searchpath", cwd=tmp_path)
    assert info.returncode == 0 and "bibench_cli.conf" in info.stdout
    help_text = bibench("train", "--help", cwd=tmp_path)
    assert "algo: bireal, bnn" in help_text.stdout


def test_train_runs_in_a_custom_hydra_run_dir_and_prints_the_record_path(tmp_path):
    run_dir = tmp_path / "my-run"
    done = bibench("train", "algo=fp32", *QUICK, f"paths.outputs={tmp_path}",
                   f"hydra.run.dir={run_dir}", cwd=tmp_path)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    record_line = done.stdout.strip().splitlines()[-1]
    assert "completed, test/acc = " in record_line and record_line.endswith("result.json")
    record_path = Path(record_line.rsplit("record: ", 1)[1])
    assert record_path == run_dir / "result.json"  # the record goes where Hydra was told
    assert json.loads(record_path.read_text())["status"] == "completed"
    assert (run_dir / ".hydra" / "config.yaml").is_file()


def test_bad_override_and_missing_dataset_fail_with_one_line(tmp_path):
    typed = bibench("train", "seed=abc", cwd=tmp_path)
    assert typed.returncode != 0 and "seed" in typed.stderr
    missing = bibench("train", "task=cifar10", f"data.root={tmp_path / 'none'}",
                      f"paths.outputs={tmp_path}", cwd=tmp_path)  # fmt: skip
    assert missing.returncode == 2
    errors = [line for line in missing.stderr.splitlines() if "error" in line]
    assert len(errors) == 1
    assert str(tmp_path / "none") in errors[0] and "data.download=true" in errors[0]


@pytest.mark.parametrize(
    ("task", "extra"),
    [("cifar10", []), ("imagenet", ["task.data.image_size=64", "task.batch_size=8"])],
)
def test_demo_data_then_train_completes_offline(tmp_path, task, extra):
    demo = bibench("data", "demo", "--task", task, "--root", str(tmp_path / "D"), cwd=tmp_path)
    assert demo.returncode == 0, demo.stderr[-2000:]
    assert demo.stdout.startswith(f"{task}: ") and "layout" in demo.stdout
    done = bibench("train", f"task={task}", f"data.root={tmp_path / 'D'}", "trainer=debug",
                   *extra, f"paths.outputs={tmp_path / 'out'}", cwd=tmp_path)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert "completed" in done.stdout and "fine-tuned from FP32" in done.stdout


def test_data_demo_for_an_unknown_task_is_one_line(tmp_path):
    done = bibench("data", "demo", "--task", "mnist", "--root", str(tmp_path), cwd=tmp_path)
    assert done.returncode == 2 and "unknown task 'mnist'" in done.stderr


def test_data_demo_never_writes_over_a_folder_with_other_data(tmp_path):
    real = tmp_path / "data" / "VOCdevkit" / "VOC2007" / "ImageSets" / "Main" / "test.txt"
    real.parent.mkdir(parents=True)
    real.write_text("000001\n")
    done = bibench(
        "data", "demo", "--task", "voc07", "--root", str(tmp_path / "data"), cwd=tmp_path
    )
    assert done.returncode == 2 and "would overwrite real data" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and real.read_text() == "000001\n"
    again = tmp_path / "demo"
    for _ in range(2):  # a demo folder is written again
        assert (
            bibench(
                "data", "demo", "--task", "voc07", "--root", str(again), cwd=tmp_path
            ).returncode
            == 0
        )
