"""Deploying finished runs (paper section 5.2.3): ``bibench export`` and ``bibench infer``.

A run is rebuilt from its folder as it was trained (``engine.build.load_finished``) and put
in eval mode; its real test inputs (the first ``samples`` of the test loader) check every
deployed model against it: largest output difference and top-1 agreement. A deploy form is
fixed to one input size: its example input is the first test input (export) or the first
``batch`` of them (infer). Only image classifiers deploy: binary inference libraries take
one N×C×S×S tensor and give class logits.

- ``export_run`` writes ``<out>/<run name>.onnx`` (standard ops, run in onnxruntime), with
  format ``openvino`` also its OpenVINO IR (``.xml``/``.bin``, compiled and run), and
  ``.packed.npz`` (binary weights at 1 bit, ``deploy.storage``); recorded in
  ``record.deploy[<format>]``.
- ``infer_run`` times the deploy form and its FP32 counterpart on OpenVINO's CPU plugin
  (BinaryConvolution checked in the runtime graph), interleaved in this process, per thread
  count; recorded in ``record.inference["openvino/<cpu>/<threads>"]`` with both sizes and
  the parity of the binary run against the trained model.

Both re-read the record just before rewriting it atomically, so every other field is kept
and a killed command leaves it as it was. A run of a non-deployable algorithm (Table 4) is
exported and measured for correctness only and marked so (``deployable`` false and its
``rule``); it has no deployed size, so no compression.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from bibench_cli.deploy import (
    DeployError,
    DeployForm,
    Parity,
    compare,
    deploy_form,
    interleaved_medians,
    storage,
    write_packed,
)
from bibench_cli.deploy.extra import FORMATS
from bibench_cli.deploy.onnx_export import export_onnx, run_onnxruntime
from bibench_cli.deploy.storage import MB, fp32_bytes
from bibench_cli.engine.build import FinishedRun, load_finished, plain
from bibench_cli.engine.callbacks import now
from bibench_cli.models import build_model
from bibench_cli.models.inputs import ImageInput
from bibench_cli.models.pretrained import read_state_dict
from bibench_cli.runs.record import RunRecord, read_record, write_record
from bibench_cli.tasks.classification import ClassificationModule

LIBRARY = "openvino"  # the one backend of ``infer``: real x86 binary kernels
SAMPLES = 64  # test inputs every parity check uses
DEPLOY_DIR = "deploy"  # default output folder, inside the run's folder
PACKED_SUFFIX = ".packed.npz"


@dataclass
class Deployment:
    """A finished run ready to deploy: its record, its image input, the trained model in
    eval mode, real test inputs and the trained model's outputs on them."""

    run_dir: Path
    run: FinishedRun
    record: RunRecord
    image: ImageInput
    inputs: Tensor
    outputs: Tensor

    @property
    def model(self) -> nn.Module:
        return self.run.built.model

    @property
    def name(self) -> str:
        """File name of its deployed models: task, arch, algorithm, seed and run id."""
        r = self.record
        task = r.task + (f"-{r.subtask}" if r.subtask else "")
        return f"{task}-{r.arch}-{r.algo}-s{r.seed}-{r.run_id}"

    def form(self, batch: int) -> DeployForm:
        """The deploy form for inputs of ``batch`` test images."""
        return deploy_form(self.model, self.inputs[:batch], self.record.algo)


def image_input(run: FinishedRun) -> ImageInput:
    """The run's image input; one line for a task a deploy form cannot express."""
    shape, task = run.built.shape, run.cfg.task.name
    if not isinstance(shape.input, ImageInput) or not issubclass(
        run.spec.module, ClassificationModule
    ):
        raise DeployError(
            f"task {task!r} feeds its model {shape.input.describe()} ({run.spec.module.__name__}); "
            "a deploy form takes one N×C×S×S image tensor and gives class logits (what binary "
            "inference libraries run: image classifiers), so this model cannot be deployed"
        )
    return shape.input


def first_test_inputs(datamodule: Any, count: int) -> Tensor:
    """The first ``count`` inputs of the test loader (all of them when there are fewer)."""
    chunks, total = [], 0
    for inputs, _ in datamodule.test_dataloader():
        chunks.append(inputs)
        total += len(inputs)
        if total >= count:
            break
    if not chunks:
        raise DeployError("the task's test set is empty: no real inputs to check parity on")
    return torch.cat(chunks)[:count]


def prepare(run_dir: Path, data_root: str | None = None, samples: int = SAMPLES) -> Deployment:
    """Rebuild the finished run in ``run_dir`` and its trained outputs on ``samples`` test
    inputs."""
    run_dir = Path(run_dir)
    record = read_record(run_dir)
    run = load_finished(run_dir, data_root)
    image = image_input(run)
    model = run.built.model.eval()
    inputs = first_test_inputs(run.datamodule, samples)
    with torch.no_grad():
        outputs = model(inputs)
    return Deployment(run_dir, run, record, image, inputs, outputs)


def parity_fields(parity: Parity, inputs: int) -> dict[str, float]:
    return {**asdict(parity), "inputs": inputs}


def verdict_fields(form: DeployForm) -> dict[str, Any]:
    """Whether a binary library runs the form (Table 4), which ones, and the rule."""
    verdict = form.verdict
    return {"deployable": verdict.deployable, "libraries": list(verdict.libraries),
            "rule": verdict.rule}  # fmt: skip


def update_record(run_dir: Path, change: Callable[[RunRecord], None]) -> RunRecord:
    """Apply ``change`` to the latest version of the run's record and write it atomically."""
    record = read_record(run_dir)
    change(record)
    write_record(record, run_dir)
    return record


def export_run(
    run_dir: Path,
    *,
    fmt: str = "onnx",
    out: Path | None = None,
    data_root: str | None = None,
    samples: int = SAMPLES,
) -> dict[str, Any]:
    """Write the run's deploy form (``fmt``: onnx, or openvino: ONNX plus OpenVINO IR) and
    its packed weights below ``out`` (default: the run's ``deploy/`` folder), check each
    against the trained model, and record the export; returns the record entry."""
    if fmt not in FORMATS:
        raise DeployError(f"unknown export format {fmt!r}; available: {', '.join(FORMATS)}")
    deployment = prepare(run_dir, data_root, samples)
    form = deployment.form(1)
    folder = Path(out) if out is not None else deployment.run_dir / DEPLOY_DIR
    folder.mkdir(parents=True, exist_ok=True)
    stem, inputs, trained = folder / deployment.name, deployment.inputs, deployment.outputs
    onnx_path = stem.with_name(f"{stem.name}.onnx")
    exported = export_onnx(form, onnx_path)
    files = [onnx_path]
    parity = {
        "deploy_form": compare(trained, form(inputs)),
        "onnxruntime": compare(trained, run_onnxruntime(exported, inputs)),
    }
    kernels = {}
    if fmt == "openvino":
        from bibench_cli.deploy import openvino_runtime as openvino

        xml = openvino.save_deployed(form, stem.with_name(f"{stem.name}.xml"))
        compiled = openvino.compile_model(openvino.read_saved(xml), tuple(inputs.shape))
        expected = openvino.binary_convolution_count(form.module)
        kernels["binary_kernels"] = openvino.check_binary_kernels(compiled, expected)
        parity["openvino"] = compare(trained, openvino.run_openvino(compiled, inputs))
        files += [xml, xml.with_suffix(".bin")]
    if not form.correctness_only:  # no library runs it: it has no deployed size
        files.append(write_packed(form, stem.with_name(f"{stem.name}{PACKED_SUFFIX}")))
    entry = {
        "format": fmt,
        "files": [str(path) for path in files],
        **verdict_fields(form),
        "input": deployment.image.describe(),
        "binary_layers": len(form.binary_layers),
        "folded_into_bn": len(form.folded_into_bn),
        **kernels,
        "parity": {where: parity_fields(p, len(inputs)) for where, p in parity.items()},
        "exported_at": now(),
    }
    update_record(deployment.run_dir, lambda record: record.deploy.__setitem__(fmt, entry))
    return entry


def inference_key(device: str, threads: int) -> str:
    """``record.inference`` key of one measurement: ``<library>/<device>/<threads>``."""
    return f"{LIBRARY}/{device.replace('/', '-')}/{threads}"


def fp32_counterpart(deployment: Deployment) -> tuple[nn.Module, str]:
    """The run's architecture at full precision (eval mode), and which weights it holds:
    those of the FP32 run it was fine-tuned from when that checkpoint is still there, else
    the binarized run's own (its algorithm's extras left out); latency and size do not
    depend on the values."""
    cfg, record = deployment.run.cfg, deployment.record
    model = build_model(cfg.arch.name, deployment.run.built.shape, **plain(cfg.arch.params))
    baseline = Path(record.init_checkpoint) if record.baseline_id else None
    if baseline is not None and baseline.is_file():
        model.load_state_dict(read_state_dict(baseline), strict=True)
        return model.eval(), f"the FP32 baseline run {record.baseline_id} ({baseline})"
    own = deployment.model.state_dict()
    missing = sorted(set(model.state_dict()) - set(own))
    if missing:
        raise DeployError(
            f"the binarized model lacks the FP32 architecture's {', '.join(missing[:3])}: "
            "cannot build its FP32 counterpart"
        )
    model.load_state_dict({key: own[key] for key in model.state_dict()}, strict=True)
    return model.eval(), (
        "the binarized run's weights in the FP32 architecture (no FP32 baseline checkpoint; "
        "latency and size do not depend on the values)"
    )


def _run_in_batches(compiled: Any, inputs: Tensor, batch: int) -> np.ndarray:
    from bibench_cli.deploy.openvino_runtime import run_openvino

    return np.concatenate([run_openvino(compiled, chunk) for chunk in inputs.split(batch)])


def infer_run(
    run_dir: Path,
    *,
    threads: Sequence[int] = (1,),
    batch: int = 1,
    repeats: int = 50,
    warmup: int = 5,
    data_root: str | None = None,
    samples: int = SAMPLES,
) -> dict[str, dict[str, Any]]:
    """Time the run's deploy form (real BinaryConvolution kernels) against its FP32
    counterpart on OpenVINO, at each thread count, on ``batch`` test images; measure both
    sizes and the binary run's parity with the trained model; record and return the
    entries by ``inference_key``."""
    from bibench_cli.deploy import openvino_runtime as openvino

    deployment = prepare(run_dir, data_root, max(samples, batch))
    inputs, trained = deployment.inputs, deployment.outputs
    if len(inputs) < batch:
        raise DeployError(f"batch {batch} is larger than the {len(inputs)} test inputs")
    checked = len(inputs) // batch * batch  # parity on whole batches of the compiled shape
    form = deployment.form(batch)
    example = inputs[:batch]
    fp32, fp32_weights = fp32_counterpart(deployment)
    s_fp32 = fp32_bytes(deployment.model) / MB
    s_bi = None if form.correctness_only else storage(deployment.model, form).deployed_mb
    device = openvino.device_name()
    entries = {}
    for count in threads:
        binary = openvino.compile_deployed(form, count)  # raises if a kernel is not binary
        reference = openvino.compile_fp32(fp32, example, count)
        outputs = _run_in_batches(binary, inputs[:checked], batch)
        medians = interleaved_medians(
            {
                "fp32": openvino.openvino_runner(reference, example),
                "binary": openvino.openvino_runner(binary, example),
            },
            repeats=repeats,
            warmup=warmup,
        )
        entries[inference_key(device, count)] = {
            "library": LIBRARY,
            "library_version": metadata.version("openvino"),
            "device": device,
            "threads": count,
            "batch": batch,
            "input": deployment.image.describe(),
            "t_fp32_s": medians["fp32"],
            "t_bi_s": medians["binary"],
            "s_fp32_mb": s_fp32,
            "s_bi_mb": s_bi,
            "speedup": medians["fp32"] / medians["binary"],
            "compression": None if s_bi is None else s_fp32 / s_bi,
            **verdict_fields(form),
            "binary_kernels": len(openvino.binary_convolutions(binary)),
            "binary_layers": len(form.binary_layers),
            "parity": parity_fields(compare(trained[:checked], outputs), checked),
            "fp32_weights": fp32_weights,
            "repeats": repeats,
            "warmup": warmup,
            "measured_at": now(),
        }
    update_record(deployment.run_dir, lambda record: record.inference.update(entries))
    return entries
