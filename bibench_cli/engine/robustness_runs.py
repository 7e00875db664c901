"""``bibench robustness PATH...``: add corruption accuracies to already-finished runs.

Each run is rebuilt from its saved ``config.yaml``, binarized as it was trained, loaded from
its ``model.pt`` and evaluated; only then is its record re-read and rewritten atomically with
the new ``corruption`` field, so every other field is kept and a killed evaluation leaves the
record exactly as it was.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

import torch
from omegaconf import OmegaConf

from bibench_cli.engine.build import binarize_for, datamodule_for, model_for
from bibench_cli.engine.pretrain import MODEL_FILE
from bibench_cli.engine.record import RESULT_FILE, read_record, write_record
from bibench_cli.engine.robustness import SOURCES, evaluate_corruptions
from bibench_cli.errors import BibenchError

log = logging.getLogger("bibench")


def find_records(paths: list[str]) -> list[Path]:
    """``result.json`` files named directly or found below the given directories."""
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_file():
            found.append(path)
        elif path.is_dir():
            found.extend(sorted(path.rglob(RESULT_FILE)))
        else:
            raise BibenchError(f"{path} does not exist; give run directories or result.json files")
    return found


def evaluate_run(record_path: Path, *, source: str, data_root: str | None, seed: int) -> None:
    """Evaluate one finished run on the corruptions and update its record in place."""
    run_dir = record_path.parent
    cfg = OmegaConf.load(run_dir / "config.yaml")
    if data_root is not None:
        cfg.data.root = data_root
    datamodule = datamodule_for(cfg)
    model = model_for(cfg, datamodule)
    binarize_for(cfg, model, datamodule)
    state = torch.load(run_dir / MODEL_FILE, map_location="cpu", weights_only=True)
    model.load_state_dict(state, strict=True)
    result = evaluate_corruptions(
        model, datamodule, cfg.task.name, cfg.data.root, source=source, seed=seed
    )
    record = read_record(record_path)  # the latest version, whatever changed meanwhile
    record.corruption = result
    write_record(record, run_dir)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="bibench robustness",
        description="Evaluate finished runs on the 19 corruptions x 5 severities (CIFAR-10-C).",
    )
    parser.add_argument("paths", nargs="+", help="run directories, result.json files or roots")
    parser.add_argument("--source", choices=SOURCES, default="auto")
    parser.add_argument("--data-root", help="dataset root, if not the one the run used")
    parser.add_argument("--seed", type=int, default=0, help="seed of generated corruptions")
    parser.add_argument("--force", action="store_true", help="re-evaluate evaluated runs")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")

    failures = 0
    for path in find_records(args.paths):
        try:
            record = read_record(path)
        except ValueError as exc:
            print(f"skipped {path}: {exc}", file=sys.stderr)
            continue
        if record.status != "completed" or (record.corruption and not args.force):
            reason = "already evaluated" if record.corruption else f"status {record.status}"
            print(f"skipped {path.parent}: {reason}", file=sys.stderr)
            continue
        try:
            evaluate_run(path, source=args.source, data_root=args.data_root, seed=args.seed)
        except BibenchError as exc:
            failures += 1
            print(f"failed {path.parent}: {exc}", file=sys.stderr)
            continue
        print(f"evaluated {path.parent}")
    return 1 if failures else 0
