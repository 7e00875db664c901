"""Render track tables like the paper's Tables 2-3: terminal (rich), Markdown, LaTeX, CSV, JSON.

Every renderer reads the same :class:`Cell` grid from :func:`cells`, so number formatting,
"—" for missing cells, best/worst marks and footnote markers agree across formats.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
from rich.console import Console
from rich.table import Table

from bibench_cli.tracks.common import ALGO_NAMES, Footnote, TrackResult

MISSING = "—"
SUPERSCRIPTS = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")


@dataclass(frozen=True)
class Cell:
    text: str  # formatted value (with "± std" when asked), or MISSING
    rank: str  # "best", "worst" or ""
    marks: tuple[int, ...]  # footnote numbers


def algo_name(algo: str) -> str:
    return ALGO_NAMES.get(algo, algo)


def _rank(row: pd.Series) -> dict[str, str]:
    """Best (highest) and worst per row; every metric here is higher-is-better."""
    present = row.dropna()
    if present.nunique() < 2:
        return {}
    ranks = {algo: "best" for algo in present.index[present == present.max()]}
    return ranks | {algo: "worst" for algo in present.index[present == present.min()]}


def _fmt(value: float, std: float | None) -> str:
    if pd.isna(value):
        return MISSING
    return f"{value:.2f}" + (f" ± {std:.2f}" if std is not None and not pd.isna(std) else "")


def cells(track: TrackResult, show_std: bool) -> dict[str, tuple[list[int], list[Cell]]]:
    """Row label -> (row footnote numbers, one Cell per algorithm column)."""
    numbers = {note: index for index, note in enumerate(track.footnotes, start=1)}
    grid = {}
    for row, values in track.values.iterrows():
        ranks = _rank(values)
        row_marks = [n for note, n in numbers.items() if note.row == row and note.algo is None]
        std = track.std.loc[row] if show_std and track.std is not None else None
        grid[str(row)] = (
            row_marks,
            [
                Cell(
                    _fmt(values[algo], None if std is None else std[algo]),
                    ranks.get(algo, ""),
                    tuple(n for note, n in numbers.items() if (note.row, note.algo) == (row, algo)),
                )
                for algo in track.values.columns
            ],
        )
    return grid


def _marked(text: str, marks: Sequence[int], style: str) -> str:
    if not marks:
        return text
    joined = ",".join(map(str, marks))
    return text + (
        f"\\textsuperscript{{{joined}}}" if style == "latex" else joined.translate(SUPERSCRIPTS)
    )


def _notes(track: TrackResult) -> list[tuple[int, Footnote]]:
    return list(enumerate(track.footnotes, start=1))


def render_terminal(tracks: Sequence[TrackResult], console: Console, show_std: bool) -> None:
    """One rich table per track: best per row bold, worst dimmed, footnotes underneath."""
    styles = {"best": "bold green", "worst": "dim", "": ""}
    for track in tracks:
        console.print(track.title, style="bold", highlight=False)
        table = Table(header_style="bold")
        table.add_column("Metric")
        for algo in track.values.columns:
            table.add_column(algo_name(algo), justify="right")
        for row, (row_marks, row_cells) in cells(track, show_std).items():
            table.add_row(
                _marked(row, row_marks, "text"),
                *(f"[{styles[c.rank]}]{_marked(c.text, c.marks, 'text')}[/]" if c.rank
                  else _marked(c.text, c.marks, "text") for c in row_cells),
                end_section=row == track.om_row or None,
            )  # fmt: skip
        console.print(table)
        for number, note in _notes(track):
            console.print(f"  {str(number).translate(SUPERSCRIPTS)} {note.text}", highlight=False)
        console.print()


def to_markdown(tracks: Sequence[TrackResult], show_std: bool) -> str:
    """GitHub Markdown tables: best per row bold, worst italic, numbered notes below."""
    decorate = {"best": "**{}**", "worst": "_{}_", "": "{}"}
    out = []
    for track in tracks:
        out += [f"### {track.title}", ""]
        out.append("| Metric | " + " | ".join(map(algo_name, track.values.columns)) + " |")
        out.append("|---|" + "---:|" * len(track.values.columns))
        for row, (row_marks, row_cells) in cells(track, show_std).items():
            texts = [_marked(decorate[c.rank].format(c.text), c.marks, "md") for c in row_cells]
            out.append(f"| {_marked(row, row_marks, 'md')} | " + " | ".join(texts) + " |")
        out += [""] + [f"{n}. {note.text}" for n, note in _notes(track)] + [""]
    return "\n".join(out)


def _tex(text: str) -> str:
    """Escape LaTeX specials in labels (OM_task, XNOR++ stay readable)."""
    for char, escaped in (("\\", r"\textbackslash{}"), ("_", r"\_"), ("%", r"\%"), ("&", r"\&"),
                          ("#", r"\#"), ("±", r"$\pm$"), (MISSING, "--")):  # fmt: skip
        text = text.replace(char, escaped)
    return text


def to_latex(tracks: Sequence[TrackResult], show_std: bool) -> str:
    """One booktabs tabular per track: best per row bold, worst in italics, notes below."""
    decorate = {"best": r"\textbf{{{}}}", "worst": r"\textit{{{}}}", "": "{}"}
    out = []
    for track in tracks:
        columns = track.values.columns
        out += [f"% {track.title}", r"\begin{tabular}{l" + "r" * len(columns) + "}", r"\toprule"]
        out.append(" & ".join(["Metric", *(_tex(algo_name(a)) for a in columns)]) + r" \\")
        out.append(r"\midrule")
        for row, (row_marks, row_cells) in cells(track, show_std).items():
            if row == track.om_row:
                out.append(r"\midrule")
            texts = [_marked(decorate[c.rank].format(_tex(c.text)), c.marks, "latex")
                     for c in row_cells]  # fmt: skip
            out.append(" & ".join([_marked(_tex(row), row_marks, "latex"), *texts]) + r" \\")
        out += [r"\bottomrule", r"\end{tabular}"]
        out += [f"% {n}: {note.text}" for n, note in _notes(track)] + [""]
    return "\n".join(out)


def _number(value: Any) -> float | None:
    return None if pd.isna(value) else float(value)


def long_rows(tracks: Sequence[TrackResult]) -> list[dict[str, Any]]:
    """One record per cell: track, metric, algo, value, std and the cell's notes (CSV, JSON)."""
    rows = []
    for track in tracks:
        for row, values in track.values.iterrows():
            for algo, value in values.items():
                notes = [n.text for n in track.footnotes if n.row == row and n.algo in (algo, None)]
                std = track.std.loc[row, algo] if track.std is not None else math.nan
                rows.append(
                    {"track": track.key, "metric": row, "algo": algo, "value": _number(value),
                     "std": _number(std), "note": "; ".join(notes)}
                )  # fmt: skip
    return rows


def to_csv(tracks: Sequence[TrackResult]) -> str:
    """Long form: one line per (track, metric, algorithm) cell, empty value when missing."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, ["track", "metric", "algo", "value", "std", "note"])
    writer.writeheader()
    writer.writerows(long_rows(tracks))
    return buffer.getvalue()


def _table_json(table: pd.DataFrame) -> dict[str, dict[str, float | None]]:
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
                "key": track.key,
                "title": track.title,
                "om": track.om_row,
                "algorithms": list(track.values.columns),
                "values": _table_json(track.values),
                "std": None if track.std is None else _table_json(track.std),
                "footnotes": [
                    {"metric": n.row, "algo": n.algo, "text": n.text} for n in track.footnotes
                ],
            }
            for track in tracks
        ],
    }
    return json.dumps(payload, indent=2)
