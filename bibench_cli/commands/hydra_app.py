"""``bibench train`` and ``bibench sweep``: the thin ``@hydra.main`` shim over
:func:`bibench_cli.engine.train.train`.

Before Hydra runs, the command line is composed once (a sweep: its first grid point) so an
unknown option, key or value is one line and exit 2 instead of Hydra's report. Exit codes:
0 all completed, 1 a run failed or diverged, 2 bad input, 130 interrupted.
"""

from __future__ import annotations

import os
import sys
import traceback
from pathlib import Path

import hydra
from omegaconf import DictConfig, open_dict

from bibench_cli.config import register_configs
from bibench_cli.errors import BibenchError
from bibench_cli.runs.record import FAILED

register_configs()

INTERRUPTED = 130
_results: list = []
_errors: list[BibenchError] = []


@hydra.main(version_base="1.3", config_path="pkg://bibench_cli.conf", config_name="config")
def _train_job(cfg: DictConfig) -> None:
    from hydra.core.hydra_config import HydraConfig

    from bibench_cli.engine.train import RunInterrupted, summary_line, train

    _quiet_third_party()
    _default_threads(cfg)
    try:
        result = train(cfg, HydraConfig.get().runtime.output_dir)
    except RunInterrupted as exc:  # Ctrl-C: the record says so; stop the whole sweep
        print(f"bibench: {exc}", file=sys.stderr, flush=True)
        raise SystemExit(INTERRUPTED) from None
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


def _default_threads(cfg: DictConfig) -> None:
    """``trainer.threads=null``: the cores this process may use, divided among the joblib
    launcher's parallel jobs (so n_jobs=4 on 2 cores does not oversubscribe them)."""
    if cfg.trainer.get("threads") is not None:
        return
    from hydra.core.hydra_config import HydraConfig

    launcher = HydraConfig.get().launcher
    cores = len(os.sched_getaffinity(0))
    jobs = launcher.get("n_jobs", 1) if "joblib" in str(launcher.get("_target_", "")) else 1
    jobs = cores if jobs is None or jobs < 1 else jobs
    with open_dict(cfg):
        cfg.trainer.threads = max(1, cores // jobs)


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


def _precheck(prog: str, overrides: list[str]) -> bool:
    """Compose the command line (a sweep: its first point) and check the config; print one
    line and return False when Hydra or bibench would refuse it."""
    from bibench_cli.compose import compose_config, first_point
    from bibench_cli.engine.validate import check_runnable

    if any(arg.startswith("-") for arg in overrides):
        return True  # --help, --cfg, --info, -c ...: Hydra's own options
    try:
        cfg = compose_config(*first_point(overrides))
        check_runnable(cfg, data=False)
        check_writable(Path(cfg.paths.outputs))
    except BibenchError as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr, flush=True)
        return False
    return True


def check_writable(outputs: Path) -> None:
    """One line when the outputs root cannot take runs (read-only, no permission, a file),
    before Hydra tries to create a run directory there."""
    from bibench_cli.engine.train import StorageError

    try:
        (outputs / ".locks").mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StorageError(f"cannot write to {outputs}: {exc.strerror or exc}") from None


def _sweep_dir_as_outputs(overrides: list[str]) -> list[str]:
    """``hydra.sweep.dir=X`` names where a sweep's runs go: make it the outputs root (last, so
    it wins), which the FP32 lookup, the progress and the summary read too (the sweep dir
    defaults to it)."""
    sweep_dirs = [arg for arg in overrides if arg.startswith("hydra.sweep.dir=")]
    rest = [arg for arg in overrides if arg not in sweep_dirs]
    return rest + ["paths.outputs=" + arg.partition("=")[2] for arg in sweep_dirs[-1:]]


def run_sweep(argv: list[str]) -> int:
    """``bibench sweep``: a Hydra multirun (``-m`` implied) that does not retry failed runs
    unless ``retry_failed=true``; exit code 1 when any grid point did not complete."""
    from bibench_cli.engine import sweep

    overrides = _sweep_dir_as_outputs([arg for arg in argv if arg not in ("-m", "--multirun")])
    if not any(arg.lstrip("+~").startswith("retry_failed=") for arg in overrides):
        overrides.append("retry_failed=false")
    if not _precheck("bibench sweep", overrides):
        return 2
    sweep.last_outcome = sweep.rejected = None
    code = run("bibench sweep", ["--multirun", *overrides], checked=True)
    if sweep.rejected is not None:
        return 2
    if sweep.last_outcome is None:  # e.g. --help or --cfg: Hydra printed and launched nothing
        return code
    return max(code, sweep.last_outcome.exit_code)


def run(prog: str, argv: list[str], *, checked: bool = False) -> int:
    """Run Hydra on ``argv`` as program ``prog`` (see the module docstring for exit codes)."""
    if not checked and not _precheck(prog, argv):
        return 2
    _results.clear()
    _errors.clear()
    sys.argv = [prog, *argv]
    try:
        _train_job()
    except SystemExit as exc:
        if exc.code == INTERRUPTED:
            return INTERRUPTED
        raise
    if _errors:
        return 2
    return 1 if any(r.record.status in FAILED for r in _results) else 0
