"""``bibench complexity algo=... arch=... task=...``: parameters, FLOPs, r_c and r_s of a model.

The config is composed exactly as ``bibench train`` composes it (Hydra compose API, so every
algo/arch/task option and override works); the model is built from the task's shape without
reading any data. ``algo=all`` (or ``algo=a,b``) prints one summary row per algorithm, like
the "Theoretical Complexity" block of the paper's Table 3. Heavy imports live in ``main``.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from omegaconf import DictConfig

    from bibench_cli.tracks.complexity import Complexity

FORMATS = ("terminal", "json", "csv", "markdown")
LAYER_HEADERS = (
    "Layer", "Type", "Precision", "1-bit params", "32-bit params",
    "Binary MACs", "Float MACs", "Extra FLOPs", "Note",
)  # fmt: skip
SUMMARY_HEADERS = (
    "Algorithm", "1-bit params", "32-bit params", "Size (MB)", "Binary MACs",
    "Float FLOPs", "Compression r_c", "Speedup r_s", "OM_comp",
)  # fmt: skip


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bibench complexity",
        description="Per-layer parameters and FLOPs by precision, and the compression / "
        "speedup ratios of BiBench eq. 7-8, for one algorithm or all of them (algo=all).",
        epilog="example: bibench complexity algo=all arch=resnet18 task=imagenet",
    )
    parser.add_argument(
        "overrides", nargs="*", metavar="KEY=VALUE",
        help="Hydra overrides as for `bibench train` (algo=all for every algorithm)",
    )  # fmt: skip
    parser.add_argument("--format", choices=FORMATS, default="terminal", help="default: terminal")
    return parser


def _split_algo(overrides: list[str]) -> tuple[str | None, list[str]]:
    """The ``algo=`` value (None when not given) and the other overrides."""
    algo = None
    rest = []
    for item in overrides:
        if item.startswith("algo="):
            algo = item.removeprefix("algo=")
        else:
            rest.append(item)
    return algo, rest


def compose_configs(overrides: list[str]) -> list[DictConfig]:
    """One composed config per requested algorithm (``algo=all``: every ``algo`` option,
    FP32 first, then the paper's order; ``algo=a,b``: those)."""
    from hydra import compose, initialize_config_module
    from hydra.core.global_hydra import GlobalHydra

    from bibench_cli.config import register_configs
    from bibench_cli.tracks.common import FP32, algo_order

    algo, rest = _split_algo(overrides)
    register_configs()
    with initialize_config_module("bibench_cli.conf", version_base="1.3"):
        if algo is None:
            return [compose("config", overrides=rest)]
        if algo == "all":
            options = GlobalHydra.instance().config_loader().get_group_options("algo")
            names = ([FP32] if FP32 in options else []) + algo_order(options)
        else:
            names = algo.split(",")
        return [compose("config", overrides=[*rest, f"algo={name}"]) for name in names]


@dataclass(frozen=True)
class Counted:
    """One composed config and what counting its model gave."""

    cfg: DictConfig
    count: Complexity
    kept: dict[str, str]  # full-precision conv/linear layer -> why binarize kept it
    input_shape: tuple[int, ...]

    @property
    def algo(self) -> str:
        return self.cfg.algo.name


@dataclass(frozen=True)
class View:
    """One output: a table (its last row a total when ``total``), footer lines, JSON data."""

    title: str
    headers: tuple[str, ...]
    rows: list[list]
    footer: str
    data: dict
    total: bool = False


def count_config(cfg: DictConfig) -> Counted:
    """Build ``cfg``'s model for its task's input shape (no data read), binarize it, count it."""
    import torch

    from bibench_cli.binarize import BinarizePolicy, binarize
    from bibench_cli.data import task_info
    from bibench_cli.models import build_model, check_compatible
    from bibench_cli.tracks.complexity import count_complexity

    info = task_info(cfg.task.name)
    shape = {"in_channels": info.in_channels, "image_size": cfg.task.image_size or info.image_size}
    check_compatible(cfg.arch.name, input_kind=info.input_kind, **shape)
    model = build_model(cfg.arch.name, num_classes=info.num_classes, **shape)
    example = torch.zeros(1, shape["in_channels"], shape["image_size"], shape["image_size"])
    report = binarize(model, cfg.algo.name, BinarizePolicy(keep=list(cfg.policy.keep)), example)
    kept = report.kept if report.binarized else {}  # FP32: no layer needs a reason
    return Counted(cfg, count_complexity(model, example), kept, tuple(example.shape))


def _si(value: float) -> str:
    """A count in G/M/k, for the totals lines."""
    for unit, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if value >= scale:
            return f"{value / scale:.3f} {unit}"
    return f"{value:g}"


def _subject(counted: Counted) -> str:
    cfg = counted.cfg
    return f"{cfg.arch.name} on {cfg.task.name}, input {'x'.join(map(str, counted.input_shape))}"


def _meta(counted: Counted) -> dict:
    cfg = counted.cfg
    return {"arch": cfg.arch.name, "task": cfg.task.name, "input_shape": list(counted.input_shape)}


def layer_view(counted: Counted) -> View:
    """The larq-style per-layer table of one model, totals last."""
    count = counted.count
    rows = [
        [layer.name, layer.type, layer.precision, layer.params_binary, layer.params_float,
         layer.macs_binary, layer.macs_float, layer.extra_flops,
         f"kept: {counted.kept[layer.name]}" if layer.name in counted.kept else ""]
        for layer in count.layers
    ]  # fmt: skip
    rows.append(["total", "", "", count.params_binary, count.params_float, count.macs_binary,
                 count.macs_float, count.extra_flops, ""])  # fmt: skip
    footer = (
        f"Parameters: {_si(count.params_fp32)} FP32 ({count.size_mb_fp32:.2f} MB) -> "
        f"{_si(count.params_binary)} 1-bit + {_si(count.params_float)} 32-bit "
        f"({count.size_mb_binarized:.2f} MB): compression r_c = {count.r_c:.2f}x\n"
        f"FLOPs (MACs): {_si(count.flops_fp32)} FP32 -> {_si(count.macs_binary)} binary "
        f"(1/64 each) + {_si(count.flops_float)} float, {_si(count.extra_flops)} of them the "
        f"algorithm's: speedup r_s = {count.r_s:.2f}x\n"
        f"OM_comp = {count.om_comp:.2f}"
    )
    data = {**_meta(counted), "algo": counted.algo, **count.record(), "layers": count.layer_dicts()}
    return View(f"{counted.algo}: {_subject(counted)}", LAYER_HEADERS, rows, footer, data, True)


def _summary_row(counted: Counted) -> list:
    count = counted.count
    return [counted.algo, count.params_binary, count.params_float, count.size_mb_binarized,
            count.macs_binary, count.flops_float, count.r_c, count.r_s, count.om_comp]  # fmt: skip


def summary_view(results: list[Counted]) -> View:
    """One row per algorithm: the paper's Table 3 "Theoretical Complexity" block."""
    rows = [_summary_row(counted) for counted in results]
    fp32 = results[0].count  # every count knows the FP32 model's totals
    footer = (
        f"FP32 model: {fp32.params_fp32:,} params, {fp32.size_mb_fp32:.2f} MB, "
        f"{_si(fp32.flops_fp32)} FLOPs (MACs); binary MACs count 1/64 in r_s"
    )
    data = {
        **_meta(results[0]),
        "algorithms": [{"algo": c.algo, **c.count.record()} for c in results],
    }
    title = f"Theoretical complexity: {_subject(results[0])}"
    return View(title, SUMMARY_HEADERS, rows, footer, data)


def _cell(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.2f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def _markdown(view: View) -> str:
    lines = [f"**{view.title}**", "", "| " + " | ".join(view.headers) + " |"]
    lines.append("|" + "---|" * len(view.headers))
    lines += ["| " + " | ".join(map(_cell, row)) + " |" for row in view.rows]
    return "\n".join([*lines, "", view.footer.replace("\n", "  \n")])


def _csv(view: View) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(view.headers)
    writer.writerows(view.rows)
    return out.getvalue().rstrip("\n")


def _print_terminal(view: View) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=view.title)
    for header, value in zip(view.headers, view.rows[0], strict=True):
        table.add_column(header, justify="right" if isinstance(value, int | float) else "left")
    for index, row in enumerate(view.rows):
        table.add_row(*map(_cell, row), end_section=view.total and index == len(view.rows) - 2)
    console = Console(highlight=False)
    console.width = max(console.width, 160)  # a piped table keeps its columns
    console.print(table)
    console.print(view.footer)


def render(view: View, fmt: str) -> str:
    """``view`` as JSON, CSV or Markdown text."""
    if fmt == "json":
        return json.dumps(view.data, indent=2)
    return _csv(view) if fmt == "csv" else _markdown(view)


def one_line(exc: Exception) -> str:
    """An error as one line: Hydra's multi-line "available options" text folded into a list."""
    options = getattr(exc, "options", None)
    lines = [line.strip() for line in str(exc).split("Config search path:")[0].splitlines()]
    if options:
        return f"{lines[0]}; available: {', '.join(options)}"
    return " ".join(line for line in lines if line)


def main(argv: list[str]) -> int:
    """Run ``bibench complexity``: 0 on success, 2 on bad input."""
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    from hydra.errors import HydraException

    from bibench_cli.binarize import UnknownAlgorithmError
    from bibench_cli.errors import BibenchError
    from bibench_cli.models import IncompatibleError, UnknownArchitectureError

    try:
        results = [count_config(cfg) for cfg in compose_configs(args.overrides)]
    except (
        HydraException, BibenchError, IncompatibleError, UnknownArchitectureError,
        UnknownAlgorithmError,
    ) as exc:  # fmt: skip
        print(f"bibench complexity: error: {one_line(exc)}", file=sys.stderr)
        return 2
    view = layer_view(results[0]) if len(results) == 1 else summary_view(results)
    if args.format == "terminal":
        _print_terminal(view)
    else:
        print(render(view, args.format))
    return 0
