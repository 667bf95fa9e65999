"""What a training run reports: one record per epoch and split, and the run's result."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class EpochRecord:
    """Epoch means of one split ("train" or "val").

    ``losses``: unweighted loss of each task (mean over the batches that had it);
    ``total``: weighted total (mean over batches); ``weighting``: the weighting's
    ``state()`` (weights or σ) used during the epoch; ``metrics``: means of the step
    function's metrics; ``lr``: learning rate; ``seconds``: wall time of the split.
    """

    epoch: int
    split: str
    losses: dict[str, float]
    total: float
    weighting: dict[str, float]
    lr: float
    seconds: float
    metrics: dict[str, float] = field(default_factory=dict)

    def row(self, state_kind: str) -> dict[str, Any]:
        """The CSV row: epoch, split, loss_<task>, total, <kind>_<task>, lr, seconds, metrics."""
        row: dict[str, Any] = {"epoch": self.epoch, "split": self.split}
        row.update({f"loss_{task}": value for task, value in self.losses.items()})
        row["total"] = self.total
        row.update({f"{state_kind}_{task}": value for task, value in self.weighting.items()})
        row.update(lr=self.lr, seconds=self.seconds)
        row.update(self.metrics)
        return row

    def value(self, name: str) -> float:
        """A monitored quantity: "total", "sum" (of task losses), a task or a metric name."""
        if name == "total":
            return self.total
        if name == "sum":
            return math.fsum(self.losses.values()) if self.losses else math.nan
        if name in self.losses:
            return self.losses[name]
        if name in self.metrics:
            return self.metrics[name]
        raise ValueError(f"cannot monitor {name!r}: not 'total', 'sum', a task "
                         f"({', '.join(self.losses)}) or a metric ({', '.join(self.metrics)})")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> EpochRecord:
        return cls(**values)


@dataclass
class TrainResult:
    """Outcome of :meth:`MultiTaskLib.training.Trainer.fit`.

    ``history`` holds a "train" (and, with a validation loader, a "val") record per
    epoch, including epochs of an earlier run continued with ``resume=True``.
    ``best_epoch``/``best_value``: the epoch with the best monitored value (its weights
    are in best.pt and, with ``restore_best``, in the model). ``last_epoch``: the last
    epoch trained. ``stopped_early``: patience ran out before ``epochs``.
    """

    history: list[EpochRecord]
    best_epoch: int
    best_value: float
    last_epoch: int
    stopped_early: bool
    out_dir: Path

    def series(self, split: str, column: str, state_kind: str = "sigma") -> list[float]:
        """One CSV column (e.g. "loss_t2", "total", "sigma_t2") over the epochs of a split."""
        return [record.row(state_kind)[column] for record in self.history
                if record.split == split]

    @property
    def best_checkpoint(self) -> Path:
        return self.out_dir / "best.pt"

    @property
    def last_checkpoint(self) -> Path:
        return self.out_dir / "last.pt"
