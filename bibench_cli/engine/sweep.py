"""What a sweep does around Hydra's launcher: plan, watch, summarise.

Planning composes every grid point first, so an invalid combination is rejected (or, for
"every valid combination" experiments, dropped) before any job starts. Progress and the
final summary come from the jobs' own ``result.json`` files, which every launcher (in-process,
joblib workers, SLURM nodes on a shared file system) writes in the same deterministic places.
"""

from __future__ import annotations

import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from omegaconf import DictConfig

from bibench_cli.errors import BibenchError, item_list
from bibench_cli.models import IncompatibleError
from bibench_cli.runs.identity import run_dir_for
from bibench_cli.runs.record import (
    FAILED,
    FINISHED,
    RESULT_FILE,
    RunRecord,
    settled,
    try_read_record,
)

POLL_SECONDS = 2.0


@dataclass
class Plan:
    """The grid points that will run, their run directories, and what was already done."""

    points: list[list[str]]
    run_dirs: list[Path]
    retry_failed: list[bool]
    dropped: list[str] = field(default_factory=list)
    already_done: set[int] = field(default_factory=set)
    failed_before: int = 0  # settled points whose earlier run failed (not retried)
    started_at: str = ""


@dataclass
class Outcome:
    counts: Counter
    failures: list[tuple[Path, str, str]]  # (run dir, status, last error line)

    @property
    def exit_code(self) -> int:
        return 1 if self.failures else 0


class LauncherError(BibenchError):
    """The Hydra launcher could not start or run the jobs."""


last_outcome: Outcome | None = None
rejected: BibenchError | None = None


def reject(error: BibenchError) -> None:
    """Record and print why the grid was refused before anything ran."""
    global rejected
    rejected = error
    print(f"bibench sweep: error: {error}", file=sys.stderr, flush=True)


def _grouped(invalid: list[tuple[str, str]]) -> str:
    """``reason [points]; ...``: each distinct reason once, with the points it applies to."""
    by_reason: dict[str, list[str]] = {}
    for point, reason in invalid:
        by_reason.setdefault(reason, []).append(point)
    return "; ".join(f"{reason} [{item_list(points, 3)}]" for reason, points in by_reason.items())


def _read(run_dir: Path) -> RunRecord | None:
    return try_read_record(run_dir / RESULT_FILE)


def with_extras(
    points: Sequence[Sequence[str]], when: Mapping[str, Sequence[str]]
) -> list[list[str]]:
    """Each grid point followed by the overrides ``when`` adds to points containing one of
    its keys (the sweeper's ``when``: per-task settings in a grid over tasks)."""
    return [[*point, *(extra for key in point for extra in when.get(key, ()))] for point in points]


def plan(
    points: Sequence[Sequence[str]],
    compose: Callable[[list[str]], DictConfig],
    *,
    skip_incompatible: bool = False,
) -> Plan:
    """Compose and check every point (its dataset included); raise one error naming each
    distinct reason once. With ``skip_incompatible``, points whose architecture cannot take
    the task's input are dropped instead (an "every valid combination" experiment)."""
    from bibench_cli.compose import hydra_errors
    from bibench_cli.engine.validate import check_runnable

    kept, run_dirs, retry, invalid, dropped = [], [], [], [], []
    for point in points:
        shown = " ".join(point)
        try:
            with hydra_errors():
                cfg = compose(list(point))
            check_runnable(cfg)
        except IncompatibleError as exc:
            (dropped if skip_incompatible else invalid).append((shown, str(exc)))
            continue
        except BibenchError as exc:
            invalid.append((shown, str(exc)))
            continue
        kept.append(list(point))
        run_dirs.append(run_dir_for(cfg))
        retry.append(bool(cfg.retry_failed))
    if invalid:
        raise BibenchError(
            f"{len(invalid)} of {len(points)} grid points cannot run; nothing was run: "
            + _grouped(invalid)
        )
    result = Plan(kept, run_dirs, retry, dropped=[f"[{p}]: {r}" for p, r in dropped])
    for index, (run_dir, retry_failed) in enumerate(zip(run_dirs, retry, strict=True)):
        record = _read(run_dir)
        if settled(record, retry_failed):
            result.already_done.add(index)
            result.failed_before += record.status in FAILED
    result.started_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
    return result


def _finished_now(plan_: Plan, index: int) -> RunRecord | None:
    """The record of a job that finished during this sweep, else None."""
    record = _read(plan_.run_dirs[index])
    if record is not None and record.status in FINISHED and record.finished_at >= plan_.started_at:
        return record
    return None


class Progress(threading.Thread):
    """Prints jobs done / total, failures, elapsed and ETA whenever a job finishes."""

    def __init__(self, plan_: Plan) -> None:
        super().__init__(daemon=True)
        self.plan = plan_
        self.stop = threading.Event()
        self.clock = time.monotonic()
        self.shown = -1

    def line(self) -> str:
        todo = [i for i in range(len(self.plan.points)) if i not in self.plan.already_done]
        finished = [r for r in (_finished_now(self.plan, i) for i in todo) if r is not None]
        failed = sum(record.status != "completed" for record in finished)
        elapsed = time.monotonic() - self.clock
        remaining = len(todo) - len(finished)
        eta = elapsed / len(finished) * remaining if finished else None
        done = len(finished) + len(self.plan.already_done)
        self.shown = done
        eta_text = _clock(eta) if eta is not None else "?"
        return (
            f"[sweep] {done}/{len(self.plan.points)} jobs done "
            f"({len(self.plan.already_done)} skipped, {failed} failed), "
            f"elapsed {_clock(elapsed)}, ETA {eta_text}"
        )

    def run(self) -> None:
        while not self.stop.wait(POLL_SECONDS):
            previous = self.shown
            text = self.line()
            if self.shown != previous:
                print(text, file=sys.stderr, flush=True)


def _clock(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def summarise(plan_: Plan) -> Outcome:
    """Count the grid's final states and collect the failures with their run directories."""
    counts: Counter = Counter()
    failures = []
    for index, run_dir in enumerate(plan_.run_dirs):
        record = _read(run_dir)
        status = record.status if record is not None else "missing"
        skipped = index in plan_.already_done
        counts["skipped" if skipped and status == "completed" else status] += 1
        if status != "completed":
            error = (record.error if record else "") or "no record written"
            failures.append((run_dir, status, error.strip().splitlines()[-1]))
    return Outcome(counts, failures)


def print_summary(outcome: Outcome, dropped: Sequence[str]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(stderr=True)
    table = Table(title="sweep summary")
    table.add_column("status")
    table.add_column("jobs", justify="right")
    for status in ("completed", "skipped", "failed", "diverged", "running", "missing"):
        if outcome.counts.get(status):
            table.add_row(status, str(outcome.counts[status]))
    console.print(table)
    if dropped:
        console.print(f"{len(dropped)} incompatible grid points were left out (skip_incompatible)")
    if outcome.failures:
        failed = Table(title="runs that did not complete")
        for column in ("status", "run directory", "error"):
            failed.add_column(column, overflow="fold")
        for run_dir, status, error in outcome.failures:
            failed.add_row(status, str(run_dir), error)
        console.print(failed)


def execute(plan_: Plan, launch: Callable[[], Any]) -> Any:
    """Launch the planned jobs with progress reporting, then print and keep the summary."""
    global last_outcome
    progress = Progress(plan_)
    line = f"[sweep] {len(plan_.points)} jobs, {len(plan_.already_done)} already done"
    if plan_.failed_before:
        line += (
            f" ({plan_.failed_before} of them failed before and are skipped; "
            "retry_failed=true retries them)"
        )
    print(line, file=sys.stderr, flush=True)
    progress.start()
    try:
        returns = launch()
    except Exception as exc:  # the launcher itself failed (e.g. no SLURM): one line
        raise LauncherError(f"the launcher failed: {type(exc).__name__}: {exc}") from None
    finally:
        progress.stop.set()
        progress.join()
        print(progress.line(), file=sys.stderr, flush=True)  # the final N/N line
        last_outcome = summarise(plan_)
        print_summary(last_outcome, plan_.dropped)
    return returns
