"""``train(cfg) -> RunResult``: one run, from a composed config to its ``result.json``.

A plain function (no Hydra, no argv) so tests and the sweep call it directly. Bad input
(unknown names, an impossible combination, a missing dataset) raises a one-line error before
anything is written; once training starts, every outcome ends in a record: ``completed``,
``diverged`` (non-finite loss) or ``failed`` (the traceback is kept).
"""

from __future__ import annotations

import logging
import os
import sys
import time
import traceback
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import pytorch_lightning as pl
import torch
from omegaconf import DictConfig, OmegaConf

from bibench_cli.data import task_info
from bibench_cli.engine import environment
from bibench_cli.engine.build import binarize_for, datamodule_for, example_input, model_for
from bibench_cli.engine.callbacks import PlainProgress, StepTimer
from bibench_cli.engine.checkpoint_io import AtomicCheckpointIO
from bibench_cli.engine.identity import identity, resolved_config, run_dir_for
from bibench_cli.engine.locks import run_lock
from bibench_cli.engine.module import ClassificationModule
from bibench_cli.engine.pretrain import MODEL_FILE, ensure_fp32_checkpoint
from bibench_cli.engine.record import (
    RESULT_FILE,
    RunRecord,
    settled,
    try_read_record,
    write_record,
)
from bibench_cli.engine.robustness import evaluate_corruptions
from bibench_cli.engine.validate import check_runnable
from bibench_cli.errors import BibenchError
from bibench_cli.tracks.complexity import complexity_record

log = logging.getLogger("bibench")


@dataclass
class RunResult:
    """What ``train`` returns: the record, where it is, and whether the run was skipped."""

    record: RunRecord
    path: Path
    skipped: bool = False


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _load_state(path: str | Path) -> dict[str, torch.Tensor]:
    """Weights from a bare state_dict file or a Lightning checkpoint (``model.`` prefix)."""
    path = Path(path)
    if not path.is_file():
        raise BibenchError(f"init checkpoint {path} does not exist")
    state = torch.load(path, map_location="cpu", weights_only=True)
    if "state_dict" in state:
        state = {k.removeprefix("model."): v for k, v in state["state_dict"].items()}
    return state


def _logger(cfg: DictConfig, run_dir: Path):
    name = cfg.logger.name
    if name == "csv":
        return pl.loggers.CSVLogger(save_dir=str(run_dir), name="logs", version="")
    if name == "tensorboard":
        return pl.loggers.TensorBoardLogger(save_dir=str(run_dir), name="logs", version="")
    if name == "mlflow":
        return pl.loggers.MLFlowLogger(
            experiment_name=cfg.experiment, tracking_uri=cfg.logger.tracking_uri
        )
    raise BibenchError(f"unknown logger {name!r}; available: csv, tensorboard, mlflow")


def _trainer(cfg: DictConfig, run_dir: Path, timer: StepTimer) -> tuple[pl.Trainer, bool]:
    """The Lightning Trainer and whether it keeps a best-on-validation checkpoint."""
    t = cfg.trainer
    validates = t.limit_val_batches != 0
    checkpoint = pl.callbacks.ModelCheckpoint(
        dirpath=str(run_dir / "checkpoints"),
        filename="best",
        monitor="val/acc" if validates else None,
        mode="max",
        save_last=True,
        enable_version_counter=False,
    )
    interactive = sys.stdout.isatty()
    progress = pl.callbacks.RichProgressBar() if interactive else PlainProgress()
    trainer = pl.Trainer(
        accelerator=t.accelerator,
        devices=t.devices,
        strategy=t.strategy,
        precision=t.precision,
        max_epochs=t.max_epochs,
        limit_train_batches=t.limit_train_batches,
        limit_val_batches=t.limit_val_batches,
        limit_test_batches=t.limit_test_batches,
        gradient_clip_val=t.gradient_clip_val,
        log_every_n_steps=t.log_every_n_steps,
        deterministic=t.deterministic,
        default_root_dir=str(run_dir),
        logger=_logger(cfg, run_dir),
        callbacks=[checkpoint, timer, progress],
        enable_progress_bar=interactive,
        enable_model_summary=False,
        plugins=[AtomicCheckpointIO()],
    )
    return trainer, validates


def _initialise(cfg: DictConfig, model: torch.nn.Module) -> str:
    """Load the starting weights into the FP32 model; returns the checkpoint used ('' = none)."""
    if cfg.init.checkpoint:
        path = Path(cfg.init.checkpoint)
    elif cfg.algo.name != "fp32" and cfg.init.mode == "fp32":
        path = ensure_fp32_checkpoint(cfg)
    else:
        return ""
    model.load_state_dict(_load_state(path), strict=True)
    return str(path.resolve())


def _fit_and_test(cfg: DictConfig, record: RunRecord, run_dir: Path, datamodule, model) -> None:
    """Everything that can fail or diverge after the run has started; fills ``record``."""
    record.init_checkpoint = _initialise(cfg, model)
    report = binarize_for(cfg, model, datamodule)
    counts = complexity_record(model, example_input(datamodule))
    record.params, record.flops = counts["params"], counts["flops"]
    record.r_c, record.r_s = counts["r_c"], counts["r_s"]
    (run_dir / "binarize.txt").write_text(f"{report}\n")
    log.info("%s (per layer: %s)", str(report).splitlines()[0], run_dir / "binarize.txt")
    info = task_info(cfg.task.name)
    top_k = tuple(
        1 if name == "acc" else int(name.removeprefix("acc_top")) for name in info.metrics
    )
    module = ClassificationModule(model, record.config["recipe"], datamodule.num_classes, top_k)
    timer = StepTimer()
    trainer, validates = _trainer(cfg, run_dir, timer)
    last = run_dir / "checkpoints" / "last.ckpt"
    resume_from = str(last) if cfg.resume and not cfg.force and last.is_file() else None
    if resume_from:
        log.info("resuming the interrupted run from %s", resume_from)
    started = time.perf_counter()
    trainer.fit(module, datamodule=datamodule, ckpt_path=resume_from)
    record.train_time_s = time.perf_counter() - started
    record.step_time_s = timer.median
    record.metrics.update(
        {k: float(v) for k, v in trainer.callback_metrics.items() if k.startswith("val/")}
    )
    if module.diverged_at is not None:
        record.status = "diverged"
        record.error = f"loss became non-finite at step {module.diverged_at}"
        return
    tested = trainer.test(
        module, datamodule=datamodule, ckpt_path="best" if validates else "last", verbose=False
    )
    record.metrics.update({k: float(v) for k, v in tested[0].items()})
    record.primary_metric = f"test/{info.primary_metric}"
    record.primary = record.metrics[record.primary_metric]
    model_path = run_dir / MODEL_FILE
    tmp = model_path.with_suffix(".tmp")
    torch.save(module.model.state_dict(), tmp)
    os.replace(tmp, model_path)
    record.checkpoint = str(model_path)
    if cfg.eval.corruptions:
        record.corruption = evaluate_corruptions(
            module.model,
            datamodule,
            cfg.task.name,
            cfg.data.root,
            source=cfg.eval.corruption_source,
            seed=cfg.eval.corruption_seed,
        )
    record.status = "completed"


def train(cfg: DictConfig, run_dir: Path | None = None) -> RunResult:
    """Run (or skip, when already completed) the training described by ``cfg``.

    ``run_dir`` defaults to the deterministic directory of the run's identity (what Hydra's
    ``hydra.run.dir`` resolves to unless the user overrides it). Holds the run's lock
    throughout, so a process asking for a run another one is training waits for it and then
    reuses its record.
    """
    run_dir = Path(run_dir) if run_dir is not None else run_dir_for(cfg)
    with run_lock(cfg):
        previous = try_read_record(run_dir / RESULT_FILE)
        if not cfg.force and settled(previous, cfg.retry_failed):
            log.info("%s: %s (force=true re-runs it)", previous.status, run_dir / RESULT_FILE)
            return RunResult(previous, run_dir / RESULT_FILE, skipped=True)
        return _run(cfg, run_dir)


def _run(cfg: DictConfig, run_dir: Path) -> RunResult:
    record = RunRecord(
        **identity(cfg),
        run_dir=str(run_dir),
        config=resolved_config(cfg),
        versions=environment.versions(),
        device=environment.device_name(cfg.trainer.accelerator),
        hostname=environment.hostname(),
        started_at=_now(),
    )
    pl.seed_everything(cfg.seed, workers=True, verbose=False)
    try:
        check_runnable(cfg)
        datamodule = datamodule_for(cfg)
        model = model_for(cfg, datamodule)
    except BibenchError as exc:  # bad input: recorded for sweeps, then reported as one line
        record.status, record.error, record.finished_at = "failed", str(exc), _now()
        write_record(record, run_dir)
        raise
    path = write_record(record, run_dir)
    OmegaConf.save(cfg, run_dir / "config.yaml", resolve=True)
    try:
        _fit_and_test(cfg, record, run_dir, datamodule, model)
    except Exception:  # the run's own failure: keep it in the record, let the caller go on
        record.status = "failed"
        record.error = traceback.format_exc()
        log.error("run failed: %s", record.error.strip().splitlines()[-1])
    record.peak_memory_mb = environment.peak_memory_mb()
    record.finished_at = _now()
    write_record(record, run_dir)
    return RunResult(record, path)


def summary_line(result: RunResult) -> str:
    """One line for the terminal: status, primary metric and where the record is."""
    record = result.record
    shown = f"{record.primary:.2f}%" if record.primary is not None else "-"
    state = f"skipped ({record.status} before)" if result.skipped else record.status
    name = f"{record.algo}/{record.arch}/{record.task}"
    return f"{name}: {state}, {record.primary_metric or 'metric'} = {shown}, record: {result.path}"
