"""The run record: one ``result.json`` per run, the only thing ``bibench report`` reads.

Written atomically, so a run killed mid-write leaves either the previous record or none,
never a partial file. Schema 2 added the run ids the report groups by (``run_id``,
``recipe_id``, ``pair_id``, ``baseline_id``), the ``debug`` mark, attempts, threads and
per-subtask results.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from bibench_cli.runs.atomic import write_json_atomic

RESULT_FILE = "result.json"
MODEL_FILE = "model.pt"
SCHEMA_VERSION = 2
STATUSES = ("running", "completed", "failed", "diverged", "interrupted")
FINISHED = ("completed", "failed", "diverged")
FAILED = ("failed", "diverged")


@dataclass
class RunRecord:
    """Everything one run produced. Metric values are percentages (accuracy 0-100)."""

    # identity (runs.identity): what the report groups and pairs by
    experiment: str = "default"
    algo: str = "fp32"
    arch: str = ""
    task: str = ""
    subtask: str = ""
    family: str = ""  # cnn / transformer / mlp
    optimizer: str = ""
    lr: float = 0.0
    lr_scale: float = 1.0
    scheduler: str = ""
    seed: int = 0
    epochs: int = 0
    batch_size: int = 0
    debug: bool = False  # trained or tested on part of the data (limit_*_batches)
    run_id: str = ""  # hash of everything that changes what the run computes
    recipe_id: str = ""  # the same without the seed: runs of one recipe pool into a cell
    pair_id: str = ""  # the recipe as requested, without algorithm and seed (FP32 pairing)
    baseline_id: str = ""  # run_id of the FP32 run this run was fine-tuned from
    run_dir: str = ""
    # outcome
    status: str = "running"
    error: str = ""
    metric: str = ""  # name of the primary metric, e.g. "acc"
    primary_metric: str = ""  # e.g. "test/acc"
    primary: float | None = None  # value of the primary metric, percent
    metrics: dict[str, float] = field(default_factory=dict)
    # what the run read, in words, when its datamodule says (the VOC parts present)
    data: str = ""
    # one run, several report rows (ShapeNet categories, MNLI matched/mismatched):
    # {"<subtask>": primary value}
    subtasks: dict[str, float] = field(default_factory=dict)
    # cost, summed over every attempt of a resumed run
    train_time_s: float | None = None
    steps: int | None = None
    attempts: int = 0
    step_time_s: float | None = None  # median optimisation-step wall time
    peak_memory_mb: float | None = None
    threads: int | None = None  # torch intra-op threads (determinism holds per count)
    # complexity (binarize.summary, tracks.complexity)
    params: dict[str, Any] = field(default_factory=dict)
    flops: dict[str, Any] = field(default_factory=dict)
    r_c: float | None = None
    r_s: float | None = None
    # corruption robustness:
    # {"source": ..., "clean": acc, "results": {"<corruption>/<severity>": acc}}
    corruption: dict[str, Any] = field(default_factory=dict)
    # hardware inference (bibench infer), per measurement:
    # {"<library>/<device>/<threads>": {"t_fp32_s": ..., "t_bi_s": ..., "speedup": ..., ...}}
    inference: dict[str, Any] = field(default_factory=dict)
    # deployment exports (bibench export), per format:
    # {"<format>": {"files": [...], "deployable": ..., "rule": ..., "parity": {...}}}
    deploy: dict[str, Any] = field(default_factory=dict)
    # provenance
    init_checkpoint: str = ""
    checkpoint: str = ""
    versions: dict[str, str] = field(default_factory=dict)
    device: str = ""
    hostname: str = ""
    started_at: str = ""
    finished_at: str = ""
    config: dict[str, Any] = field(default_factory=dict)
    schema_version: int = SCHEMA_VERSION

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunRecord:
        """Build a record from JSON, ignoring unknown keys (newer writers) and validating status."""
        if not isinstance(data, dict):
            raise ValueError(f"run record must be a JSON object, got {type(data).__name__}")
        record = cls(**{k: v for k, v in data.items() if k in _FIELDS})
        if record.status not in STATUSES:
            raise ValueError(f"unknown status {record.status!r}; expected one of {STATUSES}")
        return record


_FIELDS = frozenset(f.name for f in fields(RunRecord))


def settled(record: RunRecord | None, retry_failed: bool) -> bool:
    """Whether an existing record ends its run: completed, or failed and not to be retried."""
    if record is None:
        return False
    return record.status == "completed" or (record.status in FAILED and not retry_failed)


def write_record(record: RunRecord, run_dir: str | os.PathLike) -> Path:
    """Atomically write ``record`` as ``run_dir/result.json`` and return its path."""
    return write_json_atomic(Path(run_dir) / RESULT_FILE, record.to_dict())


def read_record(path: str | os.PathLike) -> RunRecord:
    """Read a ``result.json`` (or the directory holding one); raises ValueError when corrupt."""
    path = Path(path)
    if path.is_dir():
        path = path / RESULT_FILE
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: not valid JSON ({exc.msg} at line {exc.lineno})") from None
    return RunRecord.from_dict(data)


def try_read_record(path: str | os.PathLike) -> RunRecord | None:
    """Like :func:`read_record`, but None for a missing, unreadable or corrupt record."""
    try:
        return read_record(path)
    except (OSError, ValueError):
        return None
