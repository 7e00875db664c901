"""The thin ``@hydra.main`` shim over :func:`bibench_cli.engine.train.train`."""

from __future__ import annotations

import sys
import traceback

import hydra
from omegaconf import DictConfig

from bibench_cli.config import register_configs
from bibench_cli.engine.record import FAILED
from bibench_cli.errors import BibenchError

register_configs()

_results: list = []
_errors: list[BibenchError] = []


@hydra.main(version_base="1.3", config_path="pkg://bibench_cli.conf", config_name="config")
def _train_job(cfg: DictConfig) -> None:
    from hydra.core.hydra_config import HydraConfig

    from bibench_cli.engine.train import summary_line, train

    _quiet_third_party()

    try:
        result = train(cfg, HydraConfig.get().runtime.output_dir)
    except BibenchError as exc:  # bad input: one line, no traceback; a sweep goes on
        _errors.append(exc)
        print(f"bibench: error: {exc}", file=sys.stderr, flush=True)
        return
    except Exception:  # a crash outside the run's own record: report it, the sweep goes on
        if not _in_sweep():
            raise
        traceback.print_exc()
        return
    _results.append(result)
    print(summary_line(result), flush=True)


def _quiet_third_party() -> None:
    """Keep the terminal to bibench's own lines: Lightning's banner (accelerators, tips) and
    a deprecation inside Lightning itself say nothing about the run."""
    import logging
    import warnings

    logging.getLogger("pytorch_lightning.utilities.rank_zero").setLevel(logging.WARNING)
    warnings.filterwarnings("ignore", message=r".*isinstance\(treespec, LeafSpec\).*")


def _in_sweep() -> bool:
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    return HydraConfig.get().mode == RunMode.MULTIRUN


def run_sweep(argv: list[str]) -> int:
    """``bibench sweep``: a Hydra multirun (``-m`` implied) that does not retry failed runs
    unless ``retry_failed=true``; exit code 1 when any grid point did not complete."""
    from bibench_cli.engine import sweep

    overrides = [arg for arg in argv if arg not in ("-m", "--multirun")]
    if not any(arg.lstrip("+~").startswith("retry_failed=") for arg in overrides):
        overrides.append("retry_failed=false")
    sweep.last_outcome = sweep.rejected = None
    code = run("bibench sweep", ["--multirun", *overrides])
    if sweep.rejected is not None:
        return 2
    if sweep.last_outcome is None:  # e.g. --help or --cfg: Hydra printed and launched nothing
        return code
    return max(code, sweep.last_outcome.exit_code)


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
    return 1 if any(r.record.status in FAILED for r in _results) else 0
