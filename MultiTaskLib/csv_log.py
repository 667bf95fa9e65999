"""The per-epoch CSV training log: one row per epoch and split."""

from __future__ import annotations

import csv
import os
from collections.abc import Sequence
from pathlib import Path

from MultiTaskLib.records import EpochRecord


def csv_columns(history: Sequence[EpochRecord], tasks: Sequence[str], state_kind: str
                ) -> list[str]:
    """epoch, split, loss_<task>…, total, <kind>_<task>…, lr, seconds, then metric names."""
    columns = ["epoch", "split", *(f"loss_{task}" for task in tasks), "total",
               *(f"{state_kind}_{task}" for task in tasks), "lr", "seconds"]
    metrics = sorted({name for record in history for name in record.metrics})
    return columns + [name for name in metrics if name not in columns]


def write_csv_log(path: str | Path, history: Sequence[EpochRecord], tasks: Sequence[str],
                  state_kind: str) -> Path:
    """(Re)write the whole log from the history, atomically.

    Rewriting rather than appending keeps the file consistent with the checkpoint after
    a resume (rows of epochs trained after the last checkpoint disappear) and lets the
    header grow when a metric first appears. Missing values are left empty.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    with open(partial, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=csv_columns(history, tasks, state_kind),
                                restval="", extrasaction="ignore")
        writer.writeheader()
        for record in history:
            writer.writerow(record.row(state_kind))
    os.replace(partial, path)
    return path
