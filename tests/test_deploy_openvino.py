"""OpenVINO runs binarized convolutions as xnor-popcount BinaryConvolution and matches torch;
the FP32 baseline compiles too; the timing helper interleaves and drops warm-up rounds."""

from __future__ import annotations

import pytest
from deploy_helpers import trained_resnet20

from bibench_cli.binarize.probe import probing
from bibench_cli.deploy import DeployError, compare, deploy_form, interleaved_medians, timing
from bibench_cli.deploy.openvino_runtime import (
    binary_convolutions,
    compile_deployed,
    compile_fp32,
    openvino_runner,
    run_openvino,
)


def eval_outputs(model, x):
    with probing(model, []):
        return model(x)


@pytest.mark.parametrize("algo", ["bnn", "reactnet"])
def test_openvino_runs_binary_convolutions_matching_torch(algo):
    model, x = trained_resnet20(algo, channels=3, size=16)
    form = deploy_form(model, x)
    compiled = compile_deployed(form)
    # every binarized conv (18 3×3 + two 1×1 downsamples) runs as xnor-popcount
    assert len(binary_convolutions(compiled)) == len(form.binary_layers) == 20
    parity = compare(eval_outputs(model, x), run_openvino(compiled, x))
    assert parity.max_rel_diff < 1e-4 and parity.top1_agreement == 1.0


def test_fp32_baseline_compiles_in_fp32_and_matches_torch():
    model, x = trained_resnet20("fp32", channels=3, size=16)
    compiled = compile_fp32(model, x[:1])
    assert binary_convolutions(compiled) == []
    assert compiled.get_property("INFERENCE_PRECISION_HINT").to_string() == "f32"
    run = openvino_runner(compiled, x[:1])
    run()
    parity = compare(eval_outputs(model, x[:1]), run_openvino(compiled, x[:1]))
    assert parity.max_rel_diff < 1e-5


def test_fp32_baseline_refuses_a_binarized_model():
    model, x = trained_resnet20("bnn", steps=0)
    with pytest.raises(DeployError, match="compile_deployed"):
        compile_fp32(model, x)


def test_interleaved_medians_alternate_models_and_skip_warmup(monkeypatch):
    now = [0.0]
    monkeypatch.setattr(timing.time, "perf_counter", lambda: now[0])
    calls = []

    def model(name, durations):
        steps = iter(durations)

        def run():
            calls.append(name)
            now[0] += next(steps)

        return run

    medians = interleaved_medians(
        {"a": model("a", [100, 100, 1, 3, 2]), "b": model("b", [50, 50, 10, 30, 20])},
        repeats=3,
        warmup=2,
    )
    assert calls == ["a", "b"] * 5
    assert medians == {"a": 2, "b": 20}  # the slow warm-up rounds are not counted
