"""``train(cfg) -> RunResult``: one run, from a composed config to its ``result.json``.

A plain function (no Hydra, no argv) so tests and the sweep call it directly. The order
matters and is the contract:

1. the run's identity is resolved once; a settled run (completed, or failed and not to be
   retried) is skipped;
2. bad input (unknown names or keys, values out of range, a missing dataset, an impossible
   combination, a keep pattern that matches nothing) raises a one-line error before anything
   is written; the data is read and the model built and binarized here too;
3. the runs it depends on (the FP32 run it is fine-tuned from) are resolved, trained first
   when missing;
4. under the run's lock it trains, tests and writes its record. Once started, every outcome
   ends in a record: ``completed``, ``diverged`` (non-finite loss), ``failed`` (the
   traceback is kept) or ``interrupted`` (Ctrl-C: the same command resumes it).

A forced re-run of a completed run trains in a staging folder (``.rerun``) and replaces the
previous result only once it completes, so killing it loses nothing.
"""

from __future__ import annotations

import errno
import logging
import os
import shutil
import sys
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytorch_lightning as pl
import torch
from omegaconf import DictConfig, OmegaConf

from bibench_cli.binarize import load_fp32_state_dict
from bibench_cli.engine import environment
from bibench_cli.engine.build import (
    BuiltModel,
    arch_checkpoint,
    count_built,
    datamodule_for,
    model_for,
    teacher_for,
)
from bibench_cli.engine.callbacks import AttemptClock, PlainProgress, now
from bibench_cli.engine.checkpoint_io import AtomicCheckpointIO
from bibench_cli.engine.dependencies import baseline_config
from bibench_cli.engine.locks import run_lock
from bibench_cli.engine.robustness import add_corruptions, evaluate_corruptions
from bibench_cli.engine.validate import check_runnable
from bibench_cli.errors import BibenchError
from bibench_cli.models.pretrained import read_state_dict
from bibench_cli.runs.atomic import write_atomic
from bibench_cli.runs.finder import find_completed
from bibench_cli.runs.identity import RunIdentity, resolve
from bibench_cli.runs.record import (
    MODEL_FILE,
    RESULT_FILE,
    RunRecord,
    read_record,
    settled,
    try_read_record,
    write_record,
)
from bibench_cli.tasks import DISTILL, TaskSpec, get_task
from bibench_cli.tracks.complexity import complexity_fields

log = logging.getLogger("bibench")
STAGING = ".rerun"  # where a forced re-run trains until it replaces the completed result
STORAGE_ERRORS = (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM, errno.EFBIG)


class RunInterrupted(BibenchError):
    """The user pressed Ctrl-C; the record says so and the same command resumes the run."""


class StorageError(BibenchError):
    """The outputs folder cannot be written (read-only, full, no permission)."""


@dataclass
class RunResult:
    """What ``train`` returns: the record, where it is, whether the run was skipped, and the
    FP32 run it was fine-tuned from."""

    record: RunRecord
    path: Path
    skipped: bool = False
    baseline: RunRecord | None = None


@dataclass
class Prepared:
    """What a run needs before it starts: its task, data and binarized model."""

    spec: TaskSpec
    datamodule: Any
    built: BuiltModel


def _storage_error(exc: OSError, where: Path) -> StorageError:
    return StorageError(f"cannot write to {where}: {exc.strerror or exc}")


def _logger(cfg: DictConfig, run_dir: Path, attempt: int):
    """One log folder per attempt (``logs/attemptN``), so a resumed run keeps the earlier ones."""
    name, version = cfg.logger.name, f"attempt{attempt}"
    if name == "csv":
        return pl.loggers.CSVLogger(save_dir=str(run_dir), name="logs", version=version)
    if name == "tensorboard":
        return pl.loggers.TensorBoardLogger(save_dir=str(run_dir), name="logs", version=version)
    if name == "mlflow":
        return pl.loggers.MLFlowLogger(
            experiment_name=cfg.experiment, tracking_uri=cfg.logger.tracking_uri
        )
    raise BibenchError(f"unknown logger {name!r}; available: csv, tensorboard, mlflow")


def _trainer(
    cfg: DictConfig, run_dir: Path, spec: TaskSpec, clock: AttemptClock, datamodule: Any
) -> tuple[pl.Trainer, bool]:
    """The Lightning Trainer and whether it keeps a best-on-validation checkpoint (not when
    the trainer or the data has no validation batches: the last weights are tested)."""
    t = cfg.trainer
    validates = t.limit_val_batches != 0 and len(datamodule.val_dataloader()) > 0
    primary = spec.metrics_for(cfg.task.subtask)[0]
    checkpoint = pl.callbacks.ModelCheckpoint(
        dirpath=str(run_dir / "checkpoints"),
        filename="best",
        monitor=f"val/{primary.name}" if validates else None,
        mode="max" if primary.higher_is_better else "min",
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
        max_steps=t.max_steps if t.max_steps is not None else -1,
        limit_train_batches=t.limit_train_batches,
        limit_val_batches=t.limit_val_batches if validates else 0,
        limit_test_batches=t.limit_test_batches,
        gradient_clip_val=t.gradient_clip_val,
        log_every_n_steps=t.log_every_n_steps,
        deterministic=t.deterministic,
        default_root_dir=str(run_dir),
        logger=_logger(cfg, run_dir, len(clock.attempts)),
        callbacks=[checkpoint, clock, progress],
        enable_progress_bar=interactive,
        enable_model_summary=False,
        plugins=[AtomicCheckpointIO()],
    )
    return trainer, validates


def prepare(cfg: DictConfig) -> Prepared:
    """Read the data and build the binarized model; bad input raises one line here."""
    spec = get_task(cfg.task.name)
    datamodule = datamodule_for(cfg, spec)
    return Prepared(spec, datamodule, model_for(cfg, datamodule, spec))


def ensure_completed(cfg: DictConfig) -> RunRecord:
    """The completed record of the run ``cfg`` describes, in any experiment, training it
    first (under its lock, so parallel jobs train it once) when there is none."""
    identity = resolve(cfg)
    with run_lock(identity):
        found = find_completed(identity)
        if found is not None:
            log.info("reusing FP32 run %s", found.parent)
            return read_record(found)
        log.info("no completed FP32 run for %s; training it first", identity.subdir)
        result = train(cfg)
    if result.record.status != "completed":
        reason = (result.record.error or "no error text").strip().splitlines()[-1]
        raise RuntimeError(f"FP32 pretrain {result.record.status} ({reason}): {result.path}")
    return result.record


def _start_weights(cfg: DictConfig, built: BuiltModel, baseline: RunRecord | None) -> str:
    """Load the run's starting weights; returns the checkpoint used ('' = random init)."""
    if baseline is not None:
        path = Path(baseline.checkpoint)
    elif cfg.init.checkpoint:
        path = Path(cfg.init.checkpoint).expanduser()
    elif arch_checkpoint(cfg) and cfg.algo.name == "fp32":
        path = Path(arch_checkpoint(cfg))
        note = built.arch.load_pretrained(built.model, path, built.arch.heads)
        if note:
            log.info("pretrained start %s: %s", path, note)
        return str(path.resolve())
    else:
        return ""
    load_fp32_state_dict(built.model, read_state_dict(path))
    return str(path.resolve())


def train(cfg: DictConfig, run_dir: Path | None = None) -> RunResult:
    """Run (or skip, when already settled) the training described by ``cfg``.

    ``run_dir`` defaults to the deterministic directory of the run's identity (what Hydra's
    ``hydra.run.dir`` resolves to unless the user overrides it).
    """
    identity = resolve(cfg)
    run_dir = Path(run_dir) if run_dir is not None else identity.dir
    previous = try_read_record(run_dir / RESULT_FILE)
    if not cfg.force and settled(previous, cfg.retry_failed):
        log.info("%s: %s (force=true re-runs it)", previous.status, run_dir / RESULT_FILE)
        if previous.status == "completed" and cfg.eval.corruptions and not previous.corruption:
            with run_lock(identity):  # an addition to the finished record
                log.info("evaluating the finished run on the corruptions (eval.corruptions)")
                previous = add_corruptions(
                    run_dir,
                    source=cfg.eval.corruption_source,
                    data_root=cfg.data.root,
                    seed=cfg.eval.corruption_seed,
                )
        return RunResult(previous, run_dir / RESULT_FILE, skipped=True)
    check_runnable(cfg)
    threads = cfg.trainer.threads or len(os.sched_getaffinity(0))
    torch.set_num_threads(threads)
    pl.seed_everything(cfg.seed, workers=True, verbose=False)
    prepared = prepare(cfg)
    dependency = baseline_config(cfg)
    baseline = ensure_completed(dependency) if dependency is not None else None
    with run_lock(identity):
        previous = try_read_record(run_dir / RESULT_FILE)
        if not cfg.force and settled(previous, cfg.retry_failed):
            return RunResult(previous, run_dir / RESULT_FILE, skipped=True, baseline=baseline)
        replacing = previous is not None and previous.status == "completed"
        work_dir = run_dir / STAGING if replacing else run_dir
        try:
            record = _run(cfg, identity, work_dir, prepared, baseline, threads)
            if replacing and record.status == "completed":
                _replace(work_dir, run_dir, record)
        except OSError as exc:
            if exc.errno in STORAGE_ERRORS:
                raise _storage_error(exc, work_dir) from None
            raise
    return RunResult(record, run_dir / RESULT_FILE, baseline=baseline)


def _replace(staging: Path, run_dir: Path, record: RunRecord) -> None:
    """Move a completed forced re-run over the previous result: files first, record last."""
    record.run_dir = str(run_dir)
    record.checkpoint = str(run_dir / MODEL_FILE)
    for item in staging.iterdir():
        if item.name == RESULT_FILE:
            continue
        target = run_dir / item.name
        if target.is_dir():
            shutil.rmtree(target)
        os.replace(item, target)
    write_record(record, run_dir)
    shutil.rmtree(staging)


def _run(
    cfg: DictConfig,
    identity: RunIdentity,
    run_dir: Path,
    prepared: Prepared,
    baseline: RunRecord | None,
    threads: int,
) -> RunRecord:
    spec, built = prepared.spec, prepared.built
    resume_from = run_dir / "checkpoints" / "last.ckpt"
    resumed = cfg.resume and resume_from.is_file()
    clock = AttemptClock(run_dir, resumed)
    primary = spec.metrics_for(cfg.task.subtask)[0]
    record = RunRecord(
        **identity.fields,
        baseline_id=baseline.run_id if baseline is not None else "",
        run_dir=str(run_dir),
        metric=primary.name,
        primary_metric=f"test/{primary.name}",
        data=str(getattr(prepared.datamodule, "summary", "")),
        config=identity.config,
        versions=environment.versions(),
        device=environment.device_name(cfg.trainer.accelerator),
        hostname=environment.hostname(),
        threads=threads,
        attempts=len(clock.attempts),
        started_at=clock.attempts[0].started_at,
        **complexity_fields(count_built(built)),
    )
    write_record(record, run_dir)
    OmegaConf.save(cfg, run_dir / "config.yaml", resolve=True)
    (run_dir / "binarize.txt").write_text(f"{built.report}\n")
    log.info("%s (per layer: %s)", str(built.report).splitlines()[0], run_dir / "binarize.txt")
    ended: BibenchError | None = None
    try:
        record.init_checkpoint = _start_weights(cfg, built, baseline)
        _fit_and_test(cfg, record, run_dir, prepared, clock, resume_from if resumed else None)
    except (KeyboardInterrupt, RunInterrupted):
        ended = RunInterrupted(f"interrupted; run the same command to resume ({run_dir})")
        record.status, record.error = "interrupted", str(ended)
    except OSError as exc:
        if exc.errno not in STORAGE_ERRORS:
            raise
        ended = _storage_error(exc, run_dir)
        record.status, record.error = "failed", str(ended)
    except Exception:  # the run's own failure: keep it in the record, let the caller go on
        record.status = "failed"
        record.error = traceback.format_exc()
        log.error("run failed: %s", record.error.strip().splitlines()[-1])
    clock.update()
    for key, value in clock.totals().items():
        setattr(record, key, value)
    record.peak_memory_mb = environment.peak_memory_mb()
    record.finished_at = now()
    write_record(record, run_dir)
    if ended is not None:
        raise ended
    return record


@contextmanager
def _interruptible(trainer: pl.Trainer) -> Iterator[None]:
    """Lightning turns Ctrl-C into ``sys.exit(1)`` after its own clean-up: make it an
    interruption the record can say."""
    try:
        yield
    except SystemExit:
        if trainer.interrupted:
            raise RunInterrupted("interrupted") from None
        raise


def _fit_and_test(
    cfg: DictConfig,
    record: RunRecord,
    run_dir: Path,
    prepared: Prepared,
    clock: AttemptClock,
    resume_from: Path | None,
) -> None:
    """Everything that can fail or diverge after the run has started; fills ``record``."""
    spec, built, datamodule = prepared.spec, prepared.built, prepared.datamodule
    metrics = spec.metrics_for(cfg.task.subtask)
    teacher = None
    if DISTILL in spec.capabilities and record.baseline_id and cfg.distill != "none":
        teacher = teacher_for(cfg, built.shape, record.init_checkpoint)
    module = spec.module(
        built.model, record.config["recipe"], metrics, built.shape, teacher, cfg.distill
    )
    trainer, validates = _trainer(cfg, run_dir, spec, clock, datamodule)
    if resume_from is not None:
        log.info("resuming the interrupted run from %s", resume_from)
    pl.seed_everything(cfg.seed, workers=True, verbose=False)  # same stream, FP32 trained or not
    with _interruptible(trainer):
        trainer.fit(module, datamodule=datamodule, ckpt_path=str(resume_from or "") or None)
    record.metrics.update(module.computed.get("val", {}))
    if module.diverged_at is not None:
        record.status = "diverged"
        record.error = f"loss became non-finite at step {module.diverged_at}"
        return
    with _interruptible(trainer):
        trainer.test(
            module, datamodule=datamodule, ckpt_path="best" if validates else "last", verbose=False
        )
    record.metrics.update(module.computed["test"])
    record.primary = record.metrics[record.primary_metric]
    record.subtasks = dict(module.subtask_results)
    model_path = write_atomic(
        run_dir / MODEL_FILE, lambda handle: torch.save(module.model.state_dict(), handle)
    )
    record.checkpoint = str(model_path)
    if cfg.eval.corruptions:
        record.corruption = evaluate_corruptions(
            module.model,
            datamodule,
            spec.corruption_release,
            cfg.data.root,
            source=cfg.eval.corruption_source,
            seed=cfg.eval.corruption_seed,
        )
    record.status = "completed"


def summary_line(result: RunResult) -> str:
    """One line for the terminal: status, primary metric and where the record is."""
    record = result.record
    shown = f"{record.primary:.2f}%" if record.primary is not None else "-"
    state = f"skipped ({record.status} before)" if result.skipped else record.status
    name = f"{record.algo}/{record.arch}/{record.task}"
    line = f"{name}: {state}, {record.primary_metric or 'metric'} = {shown}, record: {result.path}"
    if result.baseline is not None and result.baseline.primary is not None:
        fp32 = result.baseline
        line += f"\n  fine-tuned from FP32: {fp32.primary:.2f}% ({fp32.run_dir})"
    return line
