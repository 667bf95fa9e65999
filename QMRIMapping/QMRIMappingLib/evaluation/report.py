"""Write evaluation tables as CSV and markdown, and collect them in ``report.md``."""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Table:
    """One result table: ``rows`` are dicts keyed by ``columns``."""

    name: str
    title: str
    columns: list[str]
    rows: list[dict]
    notes: list[str] = field(default_factory=list)


@dataclass
class Section:
    """One experiment's tables, figures (PNG paths) and remarks."""

    title: str
    tables: list[Table] = field(default_factory=list)
    figures: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def format_value(value) -> str:
    """Numbers with 2 decimals (large ones fewer), NaN/None as an em dash."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if math.isnan(value):
            return "—"
        if abs(value) >= 1000:
            return f"{value:.0f}"
        return f"{value:.2f}"
    return str(value)


def markdown_table(table: Table) -> str:
    """The table as GitHub markdown, with its title and notes."""
    lines = [f"**{table.title}**", "",
             "| " + " | ".join(table.columns) + " |",
             "|" + "|".join("---" for _ in table.columns) + "|"]
    for row in table.rows:
        lines.append("| " + " | ".join(format_value(row.get(c)) for c in table.columns) + " |")
    lines += [""] + [f"{note}" for note in table.notes]
    return "\n".join(lines).rstrip() + "\n"


def write_table(table: Table, folder: Path) -> list[Path]:
    """``<name>.csv`` (full precision) and ``<name>.md``."""
    folder.mkdir(parents=True, exist_ok=True)
    csv_path = folder / f"{table.name}.csv"
    with open(csv_path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=table.columns, extrasaction="ignore")
        writer.writeheader()
        for row in table.rows:
            writer.writerow({c: ("" if row.get(c) is None else row.get(c))
                             for c in table.columns})
    md_path = folder / f"{table.name}.md"
    md_path.write_text(markdown_table(table), encoding="utf-8")
    return [csv_path, md_path]


def write_report(sections: list[Section], folder: Path, header: list[str]) -> list[Path]:
    """Every table's files plus ``report.md`` with all sections in order."""
    written = []
    parts = header + [""]
    for section in sections:
        parts += [f"## {section.title}", ""]
        parts += [note + "\n" for note in section.notes]
        for table in section.tables:
            written += write_table(table, folder)
            parts.append(markdown_table(table))
        for figure in section.figures:
            parts.append(f"![{figure.stem}]({figure.name})\n")
            written.append(figure)
    report = folder / "report.md"
    report.write_text("\n".join(parts).rstrip() + "\n", encoding="utf-8")
    return written + [report]
