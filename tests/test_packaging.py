"""The wheel ships the Hydra configs, the experiments and the sweeper plugin."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]


def test_wheel_contains_configs_experiments_and_plugin(tmp_path):
    source = tmp_path / "source"  # a copy: building never writes into the checkout
    ignore = shutil.ignore_patterns(".git", "outputs", "build", "dist", "*.egg-info", "__pycache__")
    shutil.copytree(ROOT, source, ignore=ignore)
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
         "-q", "-w", str(tmp_path), str(source)],
        check=True, capture_output=True,
    )  # fmt: skip
    wheel = next(tmp_path.glob("bibench-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    for yaml in ROOT.joinpath("conf").rglob("*.yaml"):
        assert f"bibench_cli/conf/{yaml.relative_to(ROOT / 'conf')}" in names
    for yaml in ROOT.joinpath("experiments").glob("*.yaml"):
        assert f"bibench_cli/experiments/{yaml.name}" in names
    assert "hydra_plugins/bibench_sweeper/bibench_sweeper.py" in names
    assert "bibench_cli/engine/train.py" in names
