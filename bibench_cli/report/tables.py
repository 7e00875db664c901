"""The one table renderer of bibench: terminal (rich), Markdown, LaTeX, CSV and JSON.

Every table — a track of the paper's Tables 2-3, or ``bibench complexity``'s per-layer and
per-algorithm counts — is first laid out as a :class:`Table` of text cells, so number
formatting, "—" for missing cells, best/worst marks and footnote markers agree across
formats and commands.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from rich.console import Console
from rich.table import Table as RichTable
from rich.text import Text

from bibench_cli.tracks.common import ALGO_NAMES, TrackResult

MISSING = "—"
SUPERSCRIPTS = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")


@dataclass(frozen=True)
class Cell:
    text: str  # formatted value, or MISSING
    rank: str = ""  # "best", "worst" or ""
    marks: tuple[int, ...] = ()  # footnote numbers


@dataclass
class Table:
    """A titled grid of text cells; ``rules_before`` are row indices that open a section
    (the OM row, a totals row), ``notes`` the numbered footnotes, ``footer`` free text."""

    title: str
    headers: list[str]
    rows: list[list[Cell]]
    right: list[bool] = field(default_factory=list)  # right-aligned columns
    rules_before: set[int] = field(default_factory=set)
    notes: list[str] = field(default_factory=list)
    footer: str = ""


def algo_name(algo: str) -> str:
    return ALGO_NAMES.get(algo, "FP32" if algo == "fp32" else algo)


def _rank(row: pd.Series) -> dict[str, str]:
    """Best (highest) and worst per row; every metric here is higher-is-better."""
    present = row.dropna()
    if present.nunique() < 2:
        return {}
    ranks = {algo: "best" for algo in present.index[present == present.max()]}
    return ranks | {algo: "worst" for algo in present.index[present == present.min()]}


def _fmt(value: float, std: float | None, count: float | None) -> str:
    if pd.isna(value):
        return MISSING
    text = f"{value:.2f}" + (f" ± {std:.2f}" if std is not None and not pd.isna(std) else "")
    return text + (f" (n={count:g})" if count is not None and not pd.isna(count) else "")


def track_title(track: TrackResult) -> str:
    return f"{track.title} [experiment: {track.experiment}]"


def track_table(track: TrackResult, show_std: bool = False, show_count: bool = False) -> Table:
    """A track as a table: the metric rows x algorithms, the OM row in its own section."""
    numbers = {note: index for index, note in enumerate(track.footnotes, start=1)}
    rows = []
    for row, values in track.values.iterrows():
        ranks = _rank(values)
        row_marks = tuple(n for note, n in numbers.items() if note.row == row and note.algo is None)
        std = track.std.loc[row] if show_std and track.std is not None else None
        count = track.counts.loc[row] if show_count and track.counts is not None else None
        cells = [Cell(str(row), "", row_marks)]
        for algo in track.values.columns:
            text = _fmt(values[algo], None if std is None else std[algo],
                        None if count is None else count[algo])  # fmt: skip
            marks = tuple(n for note, n in numbers.items() if (note.row, note.algo) == (row, algo))
            cells.append(Cell(text, ranks.get(algo, ""), marks))
        rows.append(cells)
    om = {len(rows) - 1} if track.has_om and rows else set()
    return Table(
        title=track_title(track),
        headers=["Metric", *map(algo_name, track.values.columns)],
        rows=rows,
        right=[False] + [True] * len(track.values.columns),
        rules_before=om,
        notes=[note.text for note in track.footnotes],
    )


def _marked(text: str, marks: Sequence[int], style: str) -> str:
    if not marks:
        return text
    joined = ",".join(map(str, marks))
    return text + (
        f"\\textsuperscript{{{joined}}}" if style == "latex" else joined.translate(SUPERSCRIPTS)
    )


def print_terminal(tables: Sequence[Table], console: Console) -> None:
    """One rich table each: best per row bold, worst dimmed, footnotes and footer underneath."""
    styles = {"best": "bold green", "worst": "dim"}
    for table in tables:
        console.print(table.title, style="bold", highlight=False, soft_wrap=True, markup=False)
        grid = RichTable(header_style="bold")
        for index, header in enumerate(table.headers):
            right = index < len(table.right) and table.right[index]
            grid.add_column(header, justify="right" if right else "left")
        for index, row in enumerate(table.rows):
            texts = [
                Text(_marked(c.text, c.marks, "text"), style=styles.get(c.rank, "")) for c in row
            ]
            grid.add_row(*texts, end_section=(index + 1) in table.rules_before or None)
        console.print(grid)
        for number, note in enumerate(table.notes, start=1):
            mark = str(number).translate(SUPERSCRIPTS)
            console.print(f"  {mark} {note}", highlight=False, markup=False)
        if table.footer:
            console.print(table.footer, highlight=False, markup=False)
        console.print()


def to_markdown(tables: Sequence[Table]) -> str:
    """GitHub Markdown tables: best per row bold, worst italic, numbered notes below."""
    decorate = {"best": "**{}**", "worst": "_{}_", "": "{}"}
    out = []
    for table in tables:
        out += [f"### {table.title}", ""]
        out.append("| " + " | ".join(table.headers) + " |")
        out.append(
            "|"
            + "".join(
                "---:|" if right else "---|"
                for right in table.right or [False] * len(table.headers)
            )  # fmt: skip
        )
        for row in table.rows:
            texts = [_marked(decorate[c.rank].format(c.text), c.marks, "md") for c in row]
            out.append("| " + " | ".join(texts) + " |")
        out += [""] + [f"{n}. {note}" for n, note in enumerate(table.notes, start=1)]
        out += [table.footer.replace("\n", "  \n")] if table.footer else []
        out.append("")
    return "\n".join(out)


def _tex(text: str) -> str:
    """Escape LaTeX specials in labels (OM_task, XNOR++ stay readable)."""
    for char, escaped in (("\\", r"\textbackslash{}"), ("_", r"\_"), ("%", r"\%"), ("&", r"\&"),
                          ("#", r"\#"), ("±", r"$\pm$"), ("·", r"$\cdot$"),
                          (MISSING, "--")):  # fmt: skip
        text = text.replace(char, escaped)
    return text


def to_latex(tables: Sequence[Table]) -> str:
    """One booktabs tabular each: best per row bold, worst in italics, notes below."""
    decorate = {"best": r"\textbf{{{}}}", "worst": r"\textit{{{}}}", "": "{}"}
    out = []
    for table in tables:
        align = "".join("r" if right else "l" for right in table.right or
                        [False] * len(table.headers))  # fmt: skip
        out += [f"% {table.title}", r"\begin{tabular}{" + align + "}", r"\toprule"]
        out.append(" & ".join(_tex(h) for h in table.headers) + r" \\")
        out.append(r"\midrule")
        for index, row in enumerate(table.rows):
            if index in table.rules_before:
                out.append(r"\midrule")
            texts = [_marked(decorate[c.rank].format(_tex(c.text)), c.marks, "latex")
                     for c in row]  # fmt: skip
            out.append(" & ".join(texts) + r" \\")
        out += [r"\bottomrule", r"\end{tabular}"]
        out += [f"% {n}: {note}" for n, note in enumerate(table.notes, start=1)] + [""]
    return "\n".join(out)


def to_csv_rows(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """Plain CSV of ``headers`` and ``rows``."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(headers)
    writer.writerows(rows)
    return buffer.getvalue()


def _number(value: Any) -> float | None:
    return None if pd.isna(value) else float(value)


LONG_COLUMNS = ["experiment", "track", "metric", "algo", "value", "std", "n", "note"]


def long_rows(tracks: Sequence[TrackResult]) -> list[dict[str, Any]]:
    """One record per cell: experiment, track, metric, algo, value, std, runs pooled and the
    cell's notes (CSV, JSON)."""
    rows = []
    for track in tracks:
        for row, values in track.values.iterrows():
            for algo, value in values.items():
                notes = [n.text for n in track.footnotes if n.row == row and n.algo in (algo, None)]
                std = track.std.loc[row, algo] if track.std is not None else math.nan
                n = track.counts.loc[row, algo] if track.counts is not None else math.nan
                rows.append(dict(zip(LONG_COLUMNS, (
                    track.experiment, track.key, row, algo, _number(value), _number(std),
                    _number(n), "; ".join(notes),
                ), strict=True)))  # fmt: skip
    return rows


def to_csv(tracks: Sequence[TrackResult]) -> str:
    """Long form: one line per (experiment, track, metric, algorithm) cell."""
    rows = long_rows(tracks)
    return to_csv_rows(LONG_COLUMNS, [[row[c] if row[c] is not None else "" for c in LONG_COLUMNS]
                                      for row in rows])  # fmt: skip


def _table_json(table: pd.DataFrame | None) -> dict[str, dict[str, float | None]] | None:
    if table is None:
        return None
    return {
        str(row): {algo: _number(value) for algo, value in values.items()}
        for row, values in table.iterrows()
    }


def to_json(tracks: Sequence[TrackResult], summary: dict[str, Any]) -> str:
    """Tables as nested objects (null for missing cells) plus the collection summary."""
    payload = {
        "summary": summary,
        "tracks": [
            {
                "experiment": track.experiment,
                "key": track.key,
                "title": track.title,
                "om": track.om_row,
                "algorithms": list(track.values.columns),
                "values": _table_json(track.values),
                "std": _table_json(track.std),
                "n": _table_json(track.counts),
                "footnotes": [
                    {"metric": n.row, "algo": n.algo, "text": n.text} for n in track.footnotes
                ],
            }
            for track in tracks
        ],
    }
    return json.dumps(payload, indent=2)
