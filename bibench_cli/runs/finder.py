"""The one record finder: run records below the paths a user names, and completed runs by id.

Hidden directories (``.locks``, ``.hydra``, the staging folder of a forced re-run) are not
searched: nothing in them is a result.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path

from bibench_cli.runs.identity import RunIdentity
from bibench_cli.runs.record import MODEL_FILE, RESULT_FILE, try_read_record


def find_files(
    paths: Iterable[str | os.PathLike], wanted: Callable[[str], bool]
) -> tuple[list[Path], list[Path]]:
    """Files named directly, or found below the given directories whose name is ``wanted``,
    each once; and the paths that do not exist."""
    found: dict[Path, None] = {}
    missing = []
    for path in map(Path, paths):
        if path.is_file():
            found[path.resolve()] = None
        elif path.is_dir():
            for folder, subfolders, files in os.walk(path.resolve()):
                subfolders[:] = sorted(name for name in subfolders if not name.startswith("."))
                found.update((Path(folder, name), None) for name in sorted(files) if wanted(name))
        else:
            missing.append(path)
    return list(found), missing


def find_records(paths: Iterable[str | os.PathLike]) -> tuple[list[Path], list[Path]]:
    """``result.json`` files named directly or found below the given directories."""
    return find_files(paths, lambda name: name == RESULT_FILE)


def find_completed(identity: RunIdentity) -> Path | None:
    """``result.json`` of a completed run with this run id and its model, in any experiment
    below the outputs root, if one exists."""
    outputs = Path(identity.config["paths"]["outputs"])
    tail = Path(*Path(identity.subdir).parts[1:])  # without the experiment folder
    for path in sorted(outputs.glob(f"*/{tail}/{RESULT_FILE}")):
        record = try_read_record(path)
        if (
            record is not None
            and record.status == "completed"
            and record.run_id == identity.run_id
            and (path.parent / MODEL_FILE).is_file()
        ):
            return path
    return None
