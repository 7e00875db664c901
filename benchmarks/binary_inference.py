"""Binarized vs FP32 inference on OpenVINO's CPU plugin: latency per layer and end to end,
where the time goes, and storage (the hardware-inference track, BiBench section 5.2.3).

For each architecture (ResNet-18 at 224², batch 1, 1000 classes; VGG-Small and ResNet-20 at
32², 10 classes) the model is binarized (stem and classifier full precision), converted to
its deploy form and compiled by OpenVINO, whose CPU plugin runs every binarized conv as an
xnor-popcount BinaryConvolution; the FP32 model is compiled for FP32 as the baseline. For
each thread count: each binarized conv alone (its FakeQuantize + BinaryConvolution) against
the FP32 conv of the same shape, then both whole models, each pair interleaved in one process
(medians of repeated runs after warm-up), the binarized model's time by runtime layer type,
and the storage of both. The paper's best deployed figures are Larq Compute Engine on ARM,
ResNet-18: 5.45× faster, 15.62× smaller.

    python benchmarks/binary_inference.py --threads 1,2 --repeats 50
"""

from __future__ import annotations

import argparse
import copy

import torch
from torch import Tensor, nn

from bibench_cli.binarize import binarize
from bibench_cli.deploy import compare, deploy_form, interleaved_medians, storage
from bibench_cli.deploy.binary_layer import BinaryLayerInference
from bibench_cli.deploy.form import DeployForm
from bibench_cli.deploy.openvino_runtime import (
    compile_binary,
    compile_deployed,
    compile_fp32,
    node_times,
    openvino_runner,
    run_openvino,
    time_by_layer_type,
)
from bibench_cli.deploy.verdict import deployability
from bibench_cli.models import build_model, get_architecture
from bibench_cli.models.inputs import ImageInput, TaskShape

ARCHS = {"resnet18": (224, 1000), "vggsmall": (32, 10), "resnet20": (32, 10)}
PAPER = "paper, Larq Compute Engine on ARM, ResNet-18: 5.45x speed, 15.62x storage"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--archs", default=",".join(ARCHS), help="comma-separated names")
    parser.add_argument("--algo", default="bnn", help="binarization algorithm (deployable)")
    parser.add_argument("--threads", default="1,2", help="comma-separated thread counts")
    parser.add_argument("--repeats", type=int, default=50, help="timed runs per model")
    parser.add_argument("--warmup", type=int, default=5, help="untimed runs per model")
    parser.add_argument("--layer-repeats", type=int, default=100, help="timed runs per layer")
    parser.add_argument("--no-layers", action="store_true", help="skip the per-layer table")
    return parser.parse_args()


def binary_layer_inputs(form: DeployForm) -> dict[str, tuple[BinaryLayerInference, Tensor]]:
    """Each binarized conv of the deploy form with a random input of the shape it receives."""
    found: dict[str, tuple[BinaryLayerInference, Tensor]] = {}
    hooks = [
        layer.register_forward_pre_hook(
            lambda module, args, name=name: found.__setitem__(name, (module, args[0]))
        )
        for name, layer in form.module.named_modules()
        if isinstance(layer, BinaryLayerInference) and layer.weight.dim() == 4
    ]
    form(torch.randn(form.input_shape))
    for hook in hooks:
        hook.remove()
    return {name: (layer, torch.randn(x.shape)) for name, (layer, x) in found.items()}


def fp32_twin(layer: BinaryLayerInference) -> nn.Conv2d:
    """A full-precision conv of the binarized layer's shape (what it replaced)."""
    c_out, c_in_per_group, *kernel = layer.weight.shape
    groups = layer.conv_args["groups"]
    geometry = {k: v for k, v in layer.conv_args.items() if k != "groups"}
    return nn.Conv2d(c_in_per_group * groups, c_out, kernel, groups=groups, bias=False, **geometry)


def layer_table(form: DeployForm, threads: int, args: argparse.Namespace) -> None:
    """Print each binarized conv's latency against its FP32 twin's."""
    print(f"  per layer, {threads} thread(s): FP32 conv vs FakeQuantize + BinaryConvolution")
    print(f"    {'layer':<24}{'shape':<28}{'fp32 ms':>9}{'binary ms':>11}{'speedup':>9}")
    for name, (layer, x) in binary_layer_inputs(form).items():
        binary = compile_binary(layer, tuple(x.shape), threads)
        fp32 = compile_fp32(fp32_twin(layer), x, threads)
        medians = interleaved_medians(
            {"fp32": openvino_runner(fp32, x), "binary": openvino_runner(binary, x)},
            repeats=args.layer_repeats,
            warmup=args.warmup,
        )
        c_out, c_in, k, _ = layer.weight.shape
        shape = f"{c_in}->{c_out} {k}x{k} /{layer.conv_args['stride'][0]} @{x.shape[-1]}"
        print(
            f"    {name:<24}{shape:<28}{medians['fp32'] * 1e3:>9.3f}"
            f"{medians['binary'] * 1e3:>11.3f}{medians['fp32'] / medians['binary']:>8.2f}x"
        )


def benchmark(arch: str, args: argparse.Namespace) -> None:
    size, classes = ARCHS[arch]
    torch.manual_seed(0)
    shape = TaskShape(ImageInput(3, size), {"num_classes": classes})
    fp32_model = build_model(arch, shape).eval()
    x = torch.randn(1, 3, size, size)
    binarized = copy.deepcopy(fp32_model)
    binarize(binarized, args.algo, get_architecture(arch).policy(shape), example_input=x)
    form = deploy_form(binarized.eval(), x)
    sizes = storage(binarized, form)
    print(f"\n{arch} ({args.algo}, {len(form.binary_layers)} binarized layers), 3x{size}x{size}")
    print(
        f"  storage: FP32 {sizes.fp32_mb:.2f} MB, deployed {sizes.deployed_mb:.2f} MB "
        f"(1-bit packed binary weights): {sizes.ratio:.2f}x smaller"
    )
    for threads in [int(t) for t in args.threads.split(",")]:
        if not args.no_layers:
            layer_table(form, threads, args)
        fp32 = compile_fp32(fp32_model, x, threads)
        binary = compile_deployed(form, threads)
        parity = compare(form(x), run_openvino(binary, x))
        medians = interleaved_medians(
            {"fp32": openvino_runner(fp32, x), "binary": openvino_runner(binary, x)},
            repeats=args.repeats,
            warmup=args.warmup,
        )
        speedup = medians["fp32"] / medians["binary"]
        print(
            f"  end to end, {threads} thread(s): FP32 {medians['fp32'] * 1e3:.2f} ms, "
            f"binarized {medians['binary'] * 1e3:.2f} ms: {speedup:.2f}x faster "
            f"(OpenVINO vs torch deploy form: max rel diff {parity.max_rel_diff:.1e})"
        )
        fp32_nodes = node_times(compile_fp32(fp32_model, x, threads, profile=True), x)
        binary_types = time_by_layer_type(compile_deployed(form, threads, profile=True), x)
        print("    " + amdahl_bound(fp32_nodes))
        print("    binarized model's time by runtime layer type: " + shares(binary_types))


def amdahl_bound(fp32_nodes: list[tuple[str, str, float]]) -> str:
    """FP32 time outside the convs that get binarized (all convs but the first, the stem),
    and the speedup binarizing them could give at most, if they cost nothing."""
    total = sum(seconds for _, _, seconds in fp32_nodes)
    convs = [seconds for _, kind, seconds in fp32_nodes if kind == "Convolution"]
    kept = total - sum(convs[1:])
    return (
        f"FP32 time outside the binarizable convs (stem {convs[0] / total:.0%}, classifier, "
        f"pooling, reorders): {kept / total:.0%}, so at most {total / kept:.1f}x if binary "
        "convs were free"
    )


def shares(seconds_by_type: dict[str, float]) -> str:
    total = sum(seconds_by_type.values())
    top = sorted(seconds_by_type.items(), key=lambda item: -item[1])[:6]
    return ", ".join(f"{kind} {seconds / total:.0%}" for kind, seconds in top)


def main() -> None:
    args = parse_args()
    verdict = deployability(args.algo)
    if not verdict.deployable:  # no packed form, so no storage: nothing to compare
        raise SystemExit(
            f"--algo {args.algo} does not deploy ({verdict.rule}); pick a deployable one"
        )
    torch.set_num_threads(1)
    print(f"algorithm {args.algo}; OpenVINO CPU plugin, FP32 precision; {PAPER}")
    for arch in args.archs.split(","):
        benchmark(arch, args)


if __name__ == "__main__":
    main()
