"""Dataset readers in their published on-disk formats, demo-data writers and corruptions.

One module per dataset; the tasks layer (``bibench_cli.tasks``) names which datamodule a
learning task uses.
"""

from __future__ import annotations

from bibench_cli.data.errors import (
    CorruptDatasetError,
    DataOptionError,
    DatasetNotFoundError,
)

__all__ = ["CorruptDatasetError", "DataOptionError", "DatasetNotFoundError"]
