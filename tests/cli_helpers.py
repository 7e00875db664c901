"""Run the ``bibench`` console script in a subprocess, as a user would."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

BIBENCH = [sys.executable, "-m", "bibench_cli.cli"]
QUICK = ["trainer=debug", "task.batch_size=16"]


def bibench(*args: str, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    return subprocess.run(
        [*BIBENCH, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )
