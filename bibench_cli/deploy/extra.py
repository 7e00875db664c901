"""The optional libraries of deployment (the ``bibench[deploy]`` extra), checked before use.

The export formats and inference backends import onnx, onnxruntime and openvino at module
level; a command checks first that they are installed, so a missing one is one line naming
what to install instead of an ImportError.
"""

from __future__ import annotations

import importlib.util

from .errors import MissingDependencyError

EXTRA = "bibench[deploy]"
NEEDS = {  # export format or inference backend -> the modules it imports
    "onnx": ("onnx", "onnxruntime"),
    "openvino": ("onnx", "onnxruntime", "openvino"),
}
FORMATS = ("onnx", "openvino")  # bibench export --format
BACKENDS = ("openvino",)  # bibench infer --backend: real x86 binary kernels


def require(*modules: str) -> None:
    """Raise one line naming what to install when one of ``modules`` cannot be imported
    (found without importing it, so the check is instant)."""
    missing = [name for name in modules if importlib.util.find_spec(name) is None]
    if missing:
        raise MissingDependencyError(
            f"{', '.join(missing)} not installed; install the deployment extra: "
            f"pip install '{EXTRA}' (onnx, onnxruntime, openvino)"
        )


def require_for(name: str) -> None:
    """Check the modules of export format or backend ``name``."""
    require(*NEEDS[name])
