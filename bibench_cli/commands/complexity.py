"""``bibench complexity algo=... arch=... task=...``: parameters, FLOPs, r_c and r_s of a model.

The config is composed exactly as ``bibench train`` composes it (Hydra compose API, so every
algo/arch/task option and override works); the model is built from the task's shape without
reading any data. ``algo=all`` (or ``algo=a,b``) prints one summary row per algorithm, like
the "Theoretical Complexity" block of the paper's Table 3. Heavy imports live in ``main``.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from omegaconf import DictConfig

    from bibench_cli.binarize.summary import Complexity
    from bibench_cli.report.tables import Table

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
    from bibench_cli import catalog
    from bibench_cli.compose import compose_config
    from bibench_cli.tracks.common import FP32, algo_order

    algo, rest = _split_algo(overrides)
    if algo is None:
        return [compose_config(*rest)]
    if algo == "all":
        options = [*catalog.list_options("algo"), *catalog.plugin_algorithms()]
        names = ([FP32] if FP32 in options else []) + algo_order(options)
    else:
        names = algo.split(",")
    return [compose_config(*rest, f"algo={name}") for name in names]


@dataclass(frozen=True)
class Counted:
    """One composed config and what counting its model gave."""

    cfg: DictConfig
    count: Complexity
    kept: dict[str, str]  # full-precision conv/linear layer -> why binarize kept it
    input: str  # the counted input, in words
    input_shape: list[int] | None  # its shape, when it is one tensor

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
    from bibench_cli.engine.build import count_built, model_for
    from bibench_cli.engine.validate import check_runnable

    check_runnable(cfg, data=False)
    built = model_for(cfg)
    example = built.shape.input.example(1)
    kept = built.report.kept if built.report.binarized else {}  # FP32: no layer needs a reason
    shape = list(example.shape) if hasattr(example, "shape") else None
    count = count_built(built)
    return Counted(cfg, count, kept, built.shape.input.describe(), shape)


def _si(value: float) -> str:
    """A count in G/M/k, for the totals lines."""
    for unit, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if value >= scale:
            return f"{value / scale:.3f} {unit}"
    return f"{value:g}"


def _subject(counted: Counted) -> str:
    cfg = counted.cfg
    return f"{cfg.arch.name} on {cfg.task.name}, {counted.input} (batch 1)"


def _meta(counted: Counted) -> dict:
    cfg = counted.cfg
    return {
        "arch": cfg.arch.name,
        "task": cfg.task.name,
        "input": counted.input,
        "input_shape": counted.input_shape,
    }


def layer_view(counted: Counted) -> View:
    """The larq-style per-layer table of one model, totals last."""
    from bibench_cli.tracks.complexity import complexity_fields, ratios

    count = counted.count
    ratio = ratios(count)
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
        f"({count.size_mb_binarized:.2f} MB): compression r_c = {ratio.r_c:.2f}x\n"
        f"FLOPs (MACs): {_si(count.flops_fp32)} FP32 -> {_si(count.macs_binary)} binary "
        f"(1/64 each) + {_si(count.flops_float)} float, {_si(count.extra_flops)} of them the "
        f"algorithm's: speedup r_s = {ratio.r_s:.2f}x\n"
        f"OM_comp = {ratio.om_comp:.2f}"
    )
    data = {
        **_meta(counted),
        "algo": counted.algo,
        **complexity_fields(count),
        "layers": count.layer_dicts(),
    }
    return View(f"{counted.algo}: {_subject(counted)}", LAYER_HEADERS, rows, footer, data, True)


def _summary_row(counted: Counted) -> list:
    from bibench_cli.tracks.complexity import ratios

    count = counted.count
    ratio = ratios(count)
    return [counted.algo, count.params_binary, count.params_float, count.size_mb_binarized,
            count.macs_binary, count.flops_float, ratio.r_c, ratio.r_s, ratio.om_comp]  # fmt: skip


def summary_view(results: list[Counted]) -> View:
    """One row per algorithm: the paper's Table 3 "Theoretical Complexity" block."""
    from bibench_cli.tracks.complexity import complexity_fields

    rows = [_summary_row(counted) for counted in results]
    fp32 = results[0].count  # every count knows the FP32 model's totals
    footer = (
        f"FP32 model: {fp32.params_fp32:,} params, {fp32.size_mb_fp32:.2f} MB, "
        f"{_si(fp32.flops_fp32)} FLOPs (MACs); binary MACs count 1/64 in r_s"
    )
    data = {
        **_meta(results[0]),
        "algorithms": [{"algo": c.algo, **complexity_fields(c.count)} for c in results],
    }
    title = f"Theoretical complexity: {_subject(results[0])}"
    return View(title, SUMMARY_HEADERS, rows, footer, data)


def _cell(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.2f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def as_table(view: View) -> Table:
    """``view`` laid out for the shared renderer (numbers right-aligned, totals in a section)."""
    from bibench_cli.report.tables import Cell, Table

    return Table(
        title=view.title,
        headers=list(view.headers),
        rows=[[Cell(_cell(value)) for value in row] for row in view.rows],
        right=[isinstance(value, int | float) for value in view.rows[0]],
        rules_before={len(view.rows) - 1} if view.total else set(),
        footer=view.footer,
    )


def render(view: View, fmt: str) -> str:
    """``view`` as JSON, CSV or Markdown text."""
    from bibench_cli.report.tables import to_csv_rows, to_markdown

    if fmt == "json":
        return json.dumps(view.data, indent=2)
    if fmt == "csv":
        return to_csv_rows(view.headers, view.rows).rstrip("\n")
    return to_markdown([as_table(view)])


def main(argv: list[str]) -> int:
    """Run ``bibench complexity``: 0 on success, 2 on bad input."""
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    results = [count_config(cfg) for cfg in compose_configs(args.overrides)]
    view = layer_view(results[0]) if len(results) == 1 else summary_view(results)
    if args.format == "terminal":
        from rich.console import Console

        from bibench_cli.report.tables import print_terminal

        console = Console(highlight=False)
        console.width = max(console.width, 160)  # a piped table keeps its columns
        print_terminal([as_table(view)], console)
    else:
        print(render(view, args.format))
    return 0
