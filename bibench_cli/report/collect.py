"""Read run records (``result.json``) and external-results CSVs into one tidy results frame.

Nothing read here can crash a report: an unreadable, partial or schema-violating file (or CSV
row) becomes a :class:`Skip` with its reason, and the caller warns and counts. Records are
parsed with plain ``json.loads`` on bytes (in a thread pool, for cold or network disks) and
rows are built as tuples into one frame: ten thousand records load in about a second.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import os
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import pandas as pd

from bibench_cli.catalog import arch_family
from bibench_cli.runs.finder import find_files
from bibench_cli.runs.record import RESULT_FILE, RunRecord
from bibench_cli.tracks.common import COLUMNS, COMPLETED, NUMBER_COLUMNS, empty_frame

CSV_REQUIRED = ("algo", "arch", "task", "value")
CSV_COLUMNS = (
    "experiment", "algo", "arch", "task", "subtask", "corruption", "severity", "optimizer",
    "lr", "scheduler", "seed", "value", "train_time_s", "family", "metric", "epochs",
    "batch_size", "clean_value", "lr_scale",
)  # fmt: skip
# Whole-run quantities: on the clean row only, so a corruption row never double-counts them.
RUN_COSTS = ("train_time_s", "r_c", "r_s", "infer_speedup", "infer_compression", "infer_device",
             "infer_rule")  # fmt: skip
RECORD_REQUIRED = ("experiment", "algo", "arch", "task", "status")
# Identity columns of rows without run ids (results CSVs, hand-made records): a run is these
# plus the seed; FP32 pairs by the same task, subtask, arch, epochs and batch size.
DERIVED_RUN = ("task", "subtask", "arch", "algo", "optimizer", "lr", "scheduler", "epochs",
               "batch_size", "debug")  # fmt: skip
DERIVED_PAIR = ("task", "subtask", "arch", "epochs", "batch_size", "debug")
CSV_STATUS = "csv"  # how CSV rows are counted in the summary (they are completed evaluations)

Row = tuple[Any, ...]


@dataclass(frozen=True)
class Skip:
    """One input left out: where (file, or file:line for a CSV row), a category and the detail."""

    where: str
    reason: str
    detail: str

    def __str__(self) -> str:
        return f"skipped {self.where}: {self.reason} ({self.detail})"


@dataclass
class Collection:
    """The results frame plus what the summary line needs."""

    frame: pd.DataFrame
    statuses: Counter[str] = field(default_factory=Counter)  # records per status, CSV rows
    csv_files: int = 0
    skipped: list[Skip] = field(default_factory=list)

    def summary(self) -> str:
        """One line: records read per status, CSV rows, and skips per reason."""
        records = sum(n for s, n in self.statuses.items() if s != CSV_STATUS)
        per_status = ", ".join(
            f"{n} {s}" for s, n in sorted(self.statuses.items()) if s != CSV_STATUS
        )
        text = f"read {records} records" + (f" ({per_status})" if per_status else "")
        if self.csv_files:
            text += f", {self.statuses[CSV_STATUS]} CSV rows from {self.csv_files} files"
        reasons = Counter(skip.reason for skip in self.skipped)
        text += f"; skipped {len(self.skipped)}"
        if reasons:
            text += " (" + ", ".join(f"{n} {r}" for r, n in sorted(reasons.items())) + ")"
        return text


def _number(value: Any, name: str) -> float:
    """A finite float or NaN for "not recorded"; anything else violates the schema."""
    if value is None or value == "":
        return math.nan
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise TypeError(f"{name} must be a number, got {value!r}")
    try:
        number = float(value)
    except ValueError:
        raise ValueError(f"{name} must be a number, got {value!r}") from None
    if math.isinf(number):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return number


@cache
def _family(arch: str) -> str:
    """Family from the architecture catalog, cached (unknown names are slow to miss)."""
    return arch_family(arch) or ""


def _digest(fields: dict[str, Any], names: tuple[str, ...]) -> str:
    blob = json.dumps([str(fields.get(name) or "") for name in names])
    return "c" + hashlib.sha256(blob.encode()).hexdigest()[:9]


def with_derived_ids(fields: dict[str, Any]) -> dict[str, Any]:
    """``fields`` with run, recipe and pair ids derived from its identity columns, where
    the source wrote none (see DERIVED_RUN)."""
    if fields.get("run_id"):
        return fields
    return {
        **fields,
        "recipe_id": _digest(fields, DERIVED_RUN),
        "run_id": _digest(fields, (*DERIVED_RUN, "seed")),
        "pair_id": _digest(fields, DERIVED_PAIR),
    }


def _row(source: str, fields: dict[str, Any]) -> Row:
    """A frame row from named fields (numbers as floats, text as str, absent ones empty)."""
    return tuple(
        source
        if name == "source"
        else _number(fields.get(name), name)
        if name in NUMBER_COLUMNS
        else str(fields.get(name) or "")
        for name in COLUMNS
    )


def record_rows(data: Any, source: str) -> list[Row]:
    """Rows of one record: its clean evaluation (or one per subtask result of a run that
    reports several, e.g. ShapeNet's categories), then one per corruption result."""
    record = RunRecord.from_dict(data)  # validates the object shape and the status
    missing = [name for name in RECORD_REQUIRED if name not in data]
    if missing:
        raise ValueError(f"missing fields {', '.join(missing)}")
    if record.status == COMPLETED and math.isnan(_number(record.primary, "primary")):
        raise ValueError("completed record without a primary metric")
    if not all(isinstance(x, dict) for x in (record.subtasks, record.corruption, record.inference)):
        raise TypeError("subtasks, corruption and inference must be objects")
    base = with_derived_ids(
        {
            **data,
            "family": record.family or _family(record.arch),
            "value": record.primary,
            "debug": float(bool(record.debug)),
            "corruption": "",
            "severity": "",
        }
    )
    subtasks = record.subtasks.items() if record.subtasks else [(record.subtask, record.primary)]
    rows = [
        _row(source, {**base, **(dict.fromkeys(RUN_COSTS) if i else {}), "subtask": name,
                      "value": value})
        for i, (name, value) in enumerate(subtasks)
    ]  # fmt: skip
    results = record.corruption.get("results", {})
    if not isinstance(results, dict):
        raise TypeError("corruption.results must be an object")
    clean = record.corruption.get("clean")
    for key, accuracy in results.items():
        name, _, severity = str(key).partition("/")
        entry = {**base, **dict.fromkeys(RUN_COSTS), "corruption": name, "severity": severity}
        rows.append(_row(source, {**entry, "value": accuracy, "clean_value": clean}))
    for where, measured in record.inference.items():  # {"<library>/<device>/<threads>": {...}}
        if not isinstance(measured, dict):
            raise TypeError(f"inference.{where} must be an object")
        entry = {**base, **dict.fromkeys(RUN_COSTS), "value": None, "infer_device": where}
        rows.append(_row(source, {**entry, "infer_speedup": measured.get("speedup"),
                                  "infer_compression": measured.get("compression"),
                                  "infer_rule": _correctness_only(measured, where)}))  # fmt: skip
    return rows


def _correctness_only(measured: dict[str, Any], where: str) -> str:
    """The Table 4 rule of a measurement marked not deployable (``"deployable": false``),
    else "" (entries that do not say are deployable measurements)."""
    deployable = measured.get("deployable", True)
    if not isinstance(deployable, bool):
        raise TypeError(f"inference.{where}.deployable must be true or false, got {deployable!r}")
    return "" if deployable else str(measured.get("rule") or "no binary inference library runs it")


def csv_rows(text: str, source: str) -> Iterator[Row | Skip]:
    """Rows of an external-results CSV; a bad row becomes a Skip naming its line."""
    reader = csv.reader(io.StringIO(text))
    header = [name.strip() for name in next(reader, [])]
    for values in reader:
        if not any(value.strip() for value in values):
            continue  # blank line
        where = f"{source}:{reader.line_num}"
        try:
            if len(values) != len(header):
                raise ValueError(f"{len(values)} columns, header has {len(header)}")
            fields = dict(zip(header, (value.strip() for value in values), strict=True))
            if empty := [name for name in CSV_REQUIRED if not fields[name]]:
                raise ValueError(f"empty {', '.join(empty)}")
            if math.isnan(_number(fields["value"], "value")):
                raise ValueError("value must be a number")
            family = fields.get("family") or _family(fields["arch"])
            if not family:
                raise ValueError(f"family needed: {fields['arch']!r} is not a bibench architecture")
            seed = _number(fields.get("seed"), "seed")
            yield _row(
                source,
                with_derived_ids(
                    {
                        **fields,
                        "experiment": fields.get("experiment") or "default",
                        "family": family,
                        "status": COMPLETED,
                        "seed": 0.0 if math.isnan(seed) else seed,
                        "debug": 0.0,
                    }
                ),
            )
        except ValueError as exc:
            yield Skip(where, "bad CSV row", str(exc))


def is_results_csv(header: Sequence[str]) -> bool:
    """Whether a CSV header is the external-results schema (other CSVs, e.g. logs, are not)."""
    return set(CSV_REQUIRED) <= {name.strip() for name in header}


def find_inputs(paths: Iterable[str | os.PathLike]) -> tuple[list[Path], list[Path], list[Skip]]:
    """Record files and CSVs below ``paths`` (each file once), and paths that do not exist."""
    found, missing = find_files(paths, lambda name: name == RESULT_FILE or name.endswith(".csv"))
    records = [path for path in found if path.suffix != ".csv"]
    tables = [path for path in found if path.suffix == ".csv"]
    skipped = [Skip(str(path), "missing path", "no such file or directory") for path in missing]
    return records, tables, skipped


def _read_record(path: Path) -> list[Row] | Skip:
    try:
        data = json.loads(path.read_bytes())
    except OSError as exc:
        return Skip(str(path), "unreadable", exc.strerror or str(exc))
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError
        return Skip(str(path), "invalid JSON", str(exc))
    try:
        return record_rows(data, str(path))
    except (TypeError, ValueError) as exc:
        return Skip(str(path), "invalid record", str(exc))


def collect(paths: Iterable[str | os.PathLike]) -> Collection:
    """Everything readable below ``paths`` as one frame. CSVs found while walking a directory
    are read only when their header is the external-results schema; a CSV named directly
    must be one."""
    paths = list(paths)
    record_files, table_files, skipped = find_inputs(paths)
    named = {Path(p).resolve() for p in paths}
    statuses: Counter[str] = Counter()
    rows: list[Row] = []
    with ThreadPoolExecutor(max_workers=8) as pool:
        for result in pool.map(_read_record, record_files):
            if isinstance(result, Skip):
                skipped.append(result)
            else:
                statuses[result[0][COLUMNS.index("status")]] += 1
                rows.extend(result)
    csv_files = 0
    for path in table_files:
        try:
            text = path.read_text()
        except (OSError, UnicodeDecodeError) as exc:
            skipped.append(Skip(str(path), "unreadable", str(exc)))
            continue
        if not is_results_csv(next(csv.reader(io.StringIO(text)), [])):
            if path in named:
                skipped.append(
                    Skip(str(path), "not a results CSV", "needs " + ", ".join(CSV_REQUIRED))
                )
            continue
        csv_files += 1
        for result in csv_rows(text, str(path)):
            if isinstance(result, Skip):
                skipped.append(result)
            else:
                statuses[CSV_STATUS] += 1
                rows.append(result)
    frame = pd.DataFrame.from_records(rows, columns=list(COLUMNS)) if rows else empty_frame()
    return Collection(frame, statuses, csv_files, skipped)
