"""The thin ``@hydra.main`` shim over :func:`bibench_cli.engine.train.train`."""

from __future__ import annotations

import sys

import hydra
from omegaconf import DictConfig

from bibench_cli.config import register_configs
from bibench_cli.errors import BibenchError

register_configs()

FAILED_STATUSES = ("failed", "diverged")
_results: list = []
_errors: list[BibenchError] = []


@hydra.main(version_base="1.3", config_path="pkg://bibench_cli.conf", config_name="config")
def _train_job(cfg: DictConfig) -> None:
    from bibench_cli.engine.train import summary_line, train

    try:
        result = train(cfg)
    except BibenchError as exc:  # bad input: one line, no traceback; a sweep goes on
        _errors.append(exc)
        print(f"bibench: error: {exc}", file=sys.stderr, flush=True)
        return
    _results.append(result)
    print(summary_line(result), flush=True)


def run(prog: str, argv: list[str]) -> int:
    """Run Hydra on ``argv`` as program ``prog``.

    Exit code 2 for bad input, 1 when a run failed or diverged, else 0.
    """
    _results.clear()
    _errors.clear()
    sys.argv = [prog, *argv]
    _train_job()
    if _errors:
        return 2
    return 1 if any(r.record.status in FAILED_STATUSES for r in _results) else 0
