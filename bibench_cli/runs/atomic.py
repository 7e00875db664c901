"""The one atomic writer: readers see the old file or the new one, never a torn one.

Every file a run leaves behind (records, model weights, Lightning checkpoints, caches) is
written to a temporary file beside its target, flushed to disk and moved into place with
``os.replace``. The temporary file is created with mode 0666 filtered by the process umask,
like any other file the user writes, so colleagues on a shared file system can read the
results; it is removed whatever goes wrong (disk full, Ctrl-C).
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any


def write_atomic(path: str | os.PathLike, write: Callable[[IO[bytes]], None]) -> Path:
    """Call ``write(handle)`` on a temporary file, then move it to ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def write_json_atomic(path: str | os.PathLike, data: Any) -> Path:
    """JSON (indented, with a final newline) written atomically."""
    text = json.dumps(data, indent=2, default=str) + "\n"
    return write_atomic(path, lambda handle: handle.write(text.encode()))
