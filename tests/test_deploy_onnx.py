"""ONNX export of deploy forms: standard ops only, ±1 Conv weights, BN kept, −1 padding,
checked by onnx.checker and run in onnxruntime against torch."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from deploy_helpers import ALGOS, trained_resnet20
from onnx import numpy_helper
from torch import nn

from bibench_cli.binarize.probe import probing
from bibench_cli.deploy import compare, deploy_form
from bibench_cli.deploy.onnx_export import export_onnx, run_onnxruntime

DEPLOYABLE_OPS = {
    "Add", "BatchNormalization", "Clip", "Constant", "Conv", "Flatten", "Gemm",
    "GlobalAveragePool", "Identity", "Less", "Pad", "Where",
}  # fmt: skip


@pytest.mark.parametrize("algo", ALGOS)
def test_onnx_export_runs_in_onnxruntime_like_torch(algo, tmp_path):
    model, x = trained_resnet20(algo)
    form = deploy_form(model, x)
    path = tmp_path / f"{algo}.onnx"
    exported = export_onnx(form, path)
    assert onnx.load(str(path)) == exported

    with probing(model, []):
        trained = model(x)
    for batch in (x, x[:3]):  # the batch dimension is dynamic
        parity = compare(trained[: len(batch)], run_onnxruntime(exported, batch))
        assert parity.max_rel_diff < 1e-4 and parity.top1_agreement == 1.0

    props = {p.key: p.value for p in exported.metadata_props}
    assert props["bibench.deployable"] == (
        "false (for correctness only)" if form.correctness_only else "true"
    )
    ops = [node.op_type for node in exported.graph.node]
    if not form.correctness_only:  # channel scales are in the BNs: no Mul is left
        assert set(ops) <= DEPLOYABLE_OPS
    assert "Sign" not in ops
    batchnorms = sum(isinstance(m, nn.BatchNorm2d) for m in model.modules())
    assert ops.count("BatchNormalization") == batchnorms  # none folded into a Conv

    initializers = {t.name: numpy_helper.to_array(t) for t in exported.graph.initializer}
    for name in form.binary_layers:
        assert set(np.unique(initializers[f"{name}.weight"])) == {-1.0, 1.0}
    constants = {
        node.output[0]: numpy_helper.to_array(node.attribute[0].t)
        for node in exported.graph.node
        if node.op_type == "Constant"
    }
    pads = [node for node in exported.graph.node if node.op_type == "Pad"]
    assert len(pads) == sum(any(model.get_submodule(n).padding) for n in form.binary_layers)
    assert all(constants[node.input[2]] == -1.0 for node in pads)
