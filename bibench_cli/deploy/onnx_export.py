"""ONNX export of a deploy form with standard ops, and an onnxruntime check of it.

Binarized layers export as ``Where(Less(x, 0), −1, +1)`` → ``Pad(value −1)`` → ``Conv`` with
±1 constant weights and no padding → ``Add`` of the constant zero-padding correction;
ReActNet's shift is an ``Add`` before them; channel scales live in the following
``BatchNormalization``, which stays a separate node. Both torch exporters fold an eval-mode
BatchNorm into a Conv right before it, which destroys ±1 weights (checked: the TorchScript
exporter with ``training=EVAL`` and constant folding; the dynamo exporter with
``optimize=True``, on the 1×1 downsamples, which have no padding correction in between). The
TorchScript exporter is used, with ``training=TrainingMode.PRESERVE``, which keeps every
BatchNorm, and because it honours the binarizer's ``symbolic`` (OpenVINO's FakeQuantize).

For daBNN's converter (moderate mode: a ±1 Conv after a −1 Pad) remove each Add whose
constant input is named ``*pad_correction*``: exact only for models trained with −1 padding
(the border outputs of zero-padding-trained models change); its strict mode also wants the
binarizer as ONNX ``Sign`` (equal to the Where form except on exact zeros), and it takes
binary convs with 64 or a multiple of 128 input channels and no groups. onnxruntime has no
binary kernels: it checks numbers, not speed.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import onnx
import onnxruntime
import torch
from torch import Tensor, nn

from .form import DeployForm

OPSET = 17
INPUT_NAME, OUTPUT_NAME = "input", "output"


def onnx_bytes(
    module: nn.Module, example_input: Tensor, custom_opsets: Mapping[str, int] | None = None
) -> bytes:
    """``module`` (eval mode) as ONNX bytes, every BatchNorm kept as its own node."""
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # the TorchScript exporter, on purpose
        # PRESERVE warns against constant folding for models in training mode; ours is in eval
        warnings.filterwarnings("ignore", message="It is recommended that constant folding")
        # shape checks in forwards (XNOR++'s Γ) are constants: deploy forms are fixed-size
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        torch.onnx.export(
            module.eval(),
            (example_input,),
            buffer,
            dynamo=False,
            opset_version=OPSET,
            training=torch.onnx.TrainingMode.PRESERVE,
            input_names=[INPUT_NAME],
            output_names=[OUTPUT_NAME],
            dynamic_axes={INPUT_NAME: {0: "batch"}, OUTPUT_NAME: {0: "batch"}},
            custom_opsets=dict(custom_opsets or {}),
        )
    return buffer.getvalue()


def export_onnx(form: DeployForm, path: str | Path | None = None) -> onnx.ModelProto:
    """The deploy form as a checked ONNX model (saved to ``path`` if given), marked with
    its verdict: ``bibench.deployable`` is "false (for correctness only)" for algorithms no
    binary library runs."""
    example = torch.zeros(form.input_shape)
    model = onnx.load_from_string(onnx_bytes(form.module, example))
    deployable = "true" if form.verdict.deployable else "false (for correctness only)"
    onnx.helper.set_model_props(
        model,
        {
            "bibench.deployable": deployable,
            "bibench.libraries": ", ".join(form.verdict.libraries),
            "bibench.verdict": form.verdict.rule,
            "bibench.binary_input": (
                "x >= 0 -> +1 else -1 (Where/Less), then Pad(-1); the Add of "
                "'*pad_correction*' after each +-1 Conv restores zero-padding results"
            ),
        },
    )
    onnx.checker.check_model(model, full_check=True)
    if path is not None:
        onnx.save(model, str(path))
    return model


def run_onnxruntime(model: onnx.ModelProto, inputs: Tensor, threads: int = 1) -> np.ndarray:
    """Outputs of ``model`` on ``inputs`` (any batch size of the exported sample shape)."""
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    session = onnxruntime.InferenceSession(
        model.SerializeToString(), options, providers=["CPUExecutionProvider"]
    )
    return session.run(None, {INPUT_NAME: inputs.numpy()})[0]
