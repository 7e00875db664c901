"""``bibench export`` and ``bibench infer`` on tiny trained digits ResNet-20 runs: the files,
the record fields, the report's Hardware Inference track, a non-deployable (XNOR) run
marked with its Table 4 rule, and one-line refusals."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import onnxruntime
import openvino as ov
import pytest
import torch
from conftest import QUICK, bibench, tiny_cfg, write_runs

from bibench_cli import cli
from bibench_cli.binarize import BinaryModule
from bibench_cli.binarize.estimators import binary_sign
from bibench_cli.commands import export as export_command
from bibench_cli.commands import infer as infer_command
from bibench_cli.deploy import DeployError
from bibench_cli.deploy.openvino_runtime import device_name
from bibench_cli.engine.build import FinishedRun, load_finished
from bibench_cli.engine.deployment import image_input
from bibench_cli.engine.train import train
from bibench_cli.models import build_model
from bibench_cli.models.inputs import ImageInput, InputSpec, TaskShape
from bibench_cli.report.collect import collect
from bibench_cli.report.tables import to_markdown, track_table
from bibench_cli.runs.record import read_record
from bibench_cli.tracks import TrackResult, all_tracks

ROOT = Path(__file__).resolve().parents[1]
THREADS = (1, 2)
BINARIZED_CONVS = 20  # ResNet-20: 18 3×3 convs and two 1×1 downsamples; stem and fc stay FP32


@pytest.fixture(scope="module")
def outputs(tmp_path_factory) -> Path:
    """A BNN run fine-tuned from its FP32 run, an XNOR run, and a broken record, exported
    (ONNX + OpenVINO IR) and measured (two thread counts) by the commands."""
    root = tmp_path_factory.mktemp("outputs")
    for algo in ("bnn", "xnor"):
        result = train(tiny_cfg(root, f"algo={algo}"))
        assert result.record.status == "completed", result.record.error
    broken = root / "broken"
    broken.mkdir()
    (broken / "result.json").write_text(json.dumps({"status": "completed", "algo": "bnn"}))
    return root


def run_dir(root: Path, algo: str) -> Path:
    (path,) = (root / "default" / "digits" / "resnet20" / algo).iterdir()
    return path


@pytest.fixture(scope="module")
def before(outputs) -> dict[str, dict]:
    return {algo: read_record(run_dir(outputs, algo)).to_dict() for algo in ("bnn", "xnor")}


@pytest.fixture(scope="module")
def exported(outputs, before) -> int:
    return export_command.main([str(outputs), "--format", "openvino", "--samples", "32"])


@pytest.fixture(scope="module")
def measured(outputs, exported) -> int:
    threads = ",".join(map(str, THREADS))
    return infer_command.main(
        [str(outputs), "--threads", threads, "--repeats", "3", "--warmup", "1", "--samples", "16"]
    )


def trained_model_and_inputs(path: Path, count: int = 32) -> tuple[torch.nn.Module, torch.Tensor]:
    """The trained model (eval mode) and real test inputs, read back from the run's folder."""
    run = load_finished(path)
    inputs, _ = next(iter(run.datamodule.test_dataloader()))
    return run.built.model.eval(), inputs[:count]


def test_export_writes_checked_files_and_records_them(outputs, before, exported):
    assert exported == 1  # the broken record failed (one line), the others were exported
    bnn = read_record(run_dir(outputs, "bnn")).to_dict()
    entry = bnn.pop("deploy")["openvino"]
    before["bnn"].pop("deploy")
    assert bnn == before["bnn"]  # every other field is kept
    assert entry["deployable"] and entry["libraries"] == ["Larq Compute Engine", "daBNN"]
    assert entry["rule"].startswith("bnn: ") and entry["input"] == "image input 1×8×8"
    assert entry["binary_layers"] == entry["binary_kernels"] == BINARIZED_CONVS
    assert [Path(f).suffix for f in entry["files"]] == [".onnx", ".xml", ".bin", ".npz"]
    assert all(Path(f).is_file() and Path(f).parent.name == "deploy" for f in entry["files"])
    for where in ("deploy_form", "onnxruntime", "openvino"):
        parity = entry["parity"][where]
        assert parity["inputs"] == 32 and parity["top1_agreement"] == 1.0
        assert parity["max_rel_diff"] < 1e-4


def test_exported_files_reproduce_the_trained_model(outputs, exported):
    """Read back with onnxruntime and OpenVINO directly: the same logits as the trained
    model on real test inputs, and OpenVINO's runtime graph runs BinaryConvolution."""
    path = run_dir(outputs, "bnn")
    files = {Path(f).suffix: f for f in read_record(path).deploy["openvino"]["files"]}
    model, inputs = trained_model_and_inputs(path)
    with torch.no_grad():
        expected = model(inputs).numpy()
    session = onnxruntime.InferenceSession(files[".onnx"], providers=["CPUExecutionProvider"])
    from_onnx = session.run(None, {session.get_inputs()[0].name: inputs.numpy()})[0]
    np.testing.assert_allclose(from_onnx, expected, rtol=0, atol=1e-4 * np.abs(expected).max())
    core = ov.Core()
    ir = core.read_model(files[".xml"])
    ir.reshape(list(inputs.shape))
    compiled = core.compile_model(ir, "CPU", {"INFERENCE_PRECISION_HINT": "f32"})
    kinds = [
        op.get_rt_info()["layerType"].astype(str) for op in compiled.get_runtime_model().get_ops()
    ]
    assert kinds.count("BinaryConvolution") == BINARIZED_CONVS
    from_ir = compiled.create_infer_request().infer({0: inputs.numpy()})[0]
    np.testing.assert_allclose(from_ir, expected, rtol=0, atol=1e-4 * np.abs(expected).max())


def test_packed_weights_hold_the_trained_signs_at_one_bit(outputs, exported):
    path = run_dir(outputs, "bnn")
    files = {Path(f).suffix: f for f in read_record(path).deploy["openvino"]["files"]}
    packed = np.load(files[".npz"])
    model, _ = trained_model_and_inputs(path, 1)
    layer = model.get_submodule("layer3.2.conv2")  # 64 -> 64, 3×3
    with torch.no_grad():
        signs = binary_sign(layer.binarize_weight(layer.weight))
    bits = packed["layer3.2.conv2.weight"]
    assert bits.dtype == np.uint8 and bits.shape == (64, 3, 3, 64 // 8)
    minus_one = np.unpackbits(bits, axis=-1).astype(bool)  # channels last, 1 for −1
    assert np.array_equal(minus_one, (signs < 0).permute(0, 2, 3, 1).numpy())


def test_non_deployable_run_is_exported_for_correctness_only(outputs, exported):
    entry = read_record(run_dir(outputs, "xnor")).deploy["openvino"]
    assert not entry["deployable"] and entry["libraries"] == []
    assert entry["rule"].startswith("xnor: ") and "activation re-scaling" in entry["rule"]
    assert not any(f.endswith(".npz") for f in entry["files"])  # no deployed size
    assert entry["parity"]["onnxruntime"]["max_rel_diff"] < 1e-4


def fp32_megabytes() -> float:
    """FP32 ResNet-20 for 1×8×8 digits: every floating-point number of its state, 4 bytes."""
    model = build_model("resnet20", TaskShape(ImageInput(1, 8), {"num_classes": 10}))
    return 4 * sum(t.numel() for t in model.state_dict().values() if t.is_floating_point()) / 1e6


def test_infer_records_each_thread_count(outputs, measured):
    assert measured == 1  # the broken record again
    record = read_record(run_dir(outputs, "bnn"))
    device = device_name()
    assert set(record.inference) == {f"openvino/{device}/{t}" for t in THREADS}
    for threads in THREADS:
        entry = record.inference[f"openvino/{device}/{threads}"]
        assert (entry["library"], entry["device"], entry["threads"], entry["batch"]) == (
            "openvino",
            device,
            threads,
            1,
        )
        assert entry["input"] == "image input 1×8×8"
        assert entry["t_fp32_s"] > 0 and entry["t_bi_s"] > 0
        assert entry["speedup"] == pytest.approx(entry["t_fp32_s"] / entry["t_bi_s"])
        assert entry["s_fp32_mb"] == pytest.approx(fp32_megabytes())
        assert 0 < entry["s_bi_mb"] < entry["s_fp32_mb"] / 10
        assert entry["compression"] == pytest.approx(entry["s_fp32_mb"] / entry["s_bi_mb"])
        assert entry["deployable"] and entry["rule"].startswith("bnn: ")
        assert entry["binary_kernels"] == BINARIZED_CONVS
        assert entry["parity"]["top1_agreement"] == 1.0 and entry["parity"]["inputs"] == 16
        assert entry["parity"]["max_rel_diff"] < 1e-4
        assert record.baseline_id in entry["fp32_weights"]  # timed against its FP32 run


def test_infer_marks_a_non_deployable_run(outputs, measured):
    (entry,) = [e for e in read_record(run_dir(outputs, "xnor")).inference.values()
                if e["threads"] == 1]  # fmt: skip
    assert not entry["deployable"] and "activation re-scaling" in entry["rule"]
    assert entry["s_bi_mb"] is None and entry["compression"] is None
    assert entry["parity"]["top1_agreement"] == 1.0


def test_infer_skips_measured_runs(outputs, measured, capsys):
    before = read_record(run_dir(outputs, "bnn")).inference
    assert infer_command.main([str(run_dir(outputs, "bnn")), "--threads", "1,2"]) == 0
    assert "already measured" in capsys.readouterr().err
    assert read_record(run_dir(outputs, "bnn")).inference == before


def inference_track(root: Path) -> TrackResult:
    (track,) = [
        t for t in all_tracks(collect([root]).frame, include_debug=True) if t.key == "infer"
    ]
    return track


def test_report_fills_the_inference_track(outputs, measured):
    track = inference_track(outputs)
    record = read_record(run_dir(outputs, "bnn"))
    speedups = [e["speedup"] for e in record.inference.values()]
    assert list(track.values.columns) == ["bnn", "xnor"]
    assert track.values.loc["Speedup", "bnn"] == pytest.approx(sum(speedups) / len(speedups))
    compression = next(iter(record.inference.values()))["compression"]
    assert track.values.loc["Compression", "bnn"] == pytest.approx(compression)
    assert track.values["xnor"].isna().all()
    text = to_markdown([track_table(track)])
    rule = read_record(run_dir(outputs, "xnor")).inference.popitem()[1]["rule"]
    assert "| OM_infer |" in text and "—¹" in text
    assert f"1. {rule}; hence not deployable (BiBench Table 4)" in text


def test_correctness_only_measurements_feed_no_mean(tmp_path):
    """Hand-made records: XNOR measured deployable on one architecture (a plug-in library
    could run it) and for correctness only on another; only the first counts."""

    def entry(t_fp32: float, t_bi: float, s_fp32: float, s_bi: float | None, rule: str = ""):
        return {"t_fp32_s": t_fp32, "t_bi_s": t_bi, "s_fp32_mb": s_fp32, "s_bi_mb": s_bi,
                "speedup": t_fp32 / t_bi, "compression": s_bi and s_fp32 / s_bi,
                "deployable": not rule, "rule": rule}  # fmt: skip

    rule = "xnor: activation re-scaling; no library runs it"
    runs = [
        {"algo": "bnn", "task": "cifar10", "arch": "resnet18", "primary": 50.0,
         "inference": {"openvino/cpu/1": entry(0.6, 0.2, 45.0, 3.0)}},
        {"algo": "xnor", "task": "cifar10", "arch": "resnet18", "primary": 50.0,
         "inference": {"openvino/cpu/1": entry(0.6, 0.3, 45.0, 4.5)}},
        {"algo": "xnor", "task": "cifar10", "arch": "resnet34", "primary": 50.0,
         "inference": {"openvino/cpu/1": entry(0.6, 0.1, 90.0, None, rule)}},
        {"algo": "dorefa", "task": "cifar10", "arch": "resnet18", "primary": 50.0,
         "inference": {"openvino/cpu/1": entry(0.6, 0.1, 45.0, None, "dorefa: unknown")}},
    ]  # fmt: skip
    track = inference_track(write_runs(tmp_path, runs))
    assert track.values.loc["Speedup", "xnor"] == pytest.approx(2.0)  # 0.6 / 0.3 only
    assert track.values.loc["OM_infer", "xnor"] == pytest.approx(math.sqrt((4 + 100) / 2))
    assert track.values["dorefa"].isna().all()
    notes = [(note.row, note.algo) for note in track.footnotes]
    assert notes == [("OM_infer", "xnor"), ("OM_infer", "dorefa")]


class TokenIds(InputSpec):
    kind = "tokens"

    def describe(self) -> str:
        return "token ids N×128"


def test_a_task_the_deploy_form_cannot_express_is_refused_in_one_line(outputs):
    run = load_finished(run_dir(outputs, "bnn"))
    assert image_input(run) == ImageInput(1, 8)
    run.built.shape = TaskShape(TokenIds(), {"num_classes": 2})
    with pytest.raises(DeployError) as err:
        image_input(FinishedRun(run.cfg, run.spec, run.datamodule, run.built))
    assert "token ids N×128" in str(err.value) and "\n" not in str(err.value)


def test_missing_deploy_extra_is_one_line(outputs, monkeypatch, capsys):
    import importlib.util

    find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "openvino" else find_spec(name, *a),
    )
    assert cli.main(["infer", str(outputs)]) == 2
    assert cli.main(["export", str(outputs), "--format", "openvino"]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 2 and all("pip install 'bibench[deploy]'" in line for line in lines)


def test_a_path_without_runs_is_bad_input(tmp_path, capsys):
    assert cli.main(["export", str(tmp_path)]) == 2
    assert cli.main(["infer", str(tmp_path / "missing")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert "no run records under" in err[0] and "does not exist" in err[1]


def test_the_fp32_counterpart_has_no_binarized_layer(outputs):
    """What ``infer`` times as T_fp32 is the plain architecture, not the binarized model."""
    from bibench_cli.engine.deployment import fp32_counterpart, prepare

    deployment = prepare(run_dir(outputs, "xnor"), samples=1)
    fp32, weights = fp32_counterpart(deployment)
    assert not any(isinstance(m, BinaryModule) for m in fp32.modules())
    assert read_record(run_dir(outputs, "xnor")).baseline_id in weights


@pytest.mark.slow
def test_train_export_infer_report_from_the_command_line(tmp_path, monkeypatch):
    monkeypatch.setenv("PYTHONPATH", str(ROOT))  # this checkout's bibench, not an installed one
    outputs = f"paths.outputs={tmp_path / 'outputs'}"
    trained = bibench("train", "algo=bnn", *QUICK, outputs, cwd=tmp_path)
    assert trained.returncode == 0, trained.stderr[-2000:]
    done = bibench("export", "outputs", cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "deployable on Larq Compute Engine, daBNN" in done.stdout
    done = bibench("infer", "outputs", "--backend", "openvino", "--repeats", "3", cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert f"{BINARIZED_CONVS} BinaryConvolution kernels in the runtime graph" in done.stdout
    report = bibench("report", "outputs", "--include-debug", cwd=tmp_path)
    assert report.returncode == 0, report.stderr[-2000:]
    assert "Hardware Inference" in report.stdout and "OM_infer" in report.stdout
