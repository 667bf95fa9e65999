"""Comparisons between evaluated models: efficiency and McNemar's test.

The paper compares UMS-Rep against separate task-specific models on parameters and
training time (shared encoder + heads vs the sum over the separate networks) and
compares fine-tuning strategies on the same test images; for classifiers the paired
comparison is McNemar's test on which cases each model got right, for segmentations the
Wilcoxon signed-rank test on the per-slice Dice of the slices that hold the structure.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scipy.stats import wilcoxon

from MultiTaskLib.metrics import mcnemar

from ..errors import UserInputError


@dataclass
class EvaluatedModel:
    """A bundle with its card, its test metrics, parameter count and training time."""

    label: str
    path: Path
    card: dict[str, Any]
    metrics: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def tasks(self) -> list[str]:
        return [t["name"] for t in self.card.get("tasks", [])]

    @property
    def parameters(self) -> int:
        return int(self.card.get("parameters", {}).get("total", 0))

    @property
    def training_seconds(self) -> float:
        return training_seconds(self.card)


def training_seconds(card: dict[str, Any]) -> float:
    """Wall-clock seconds of every training stage recorded in a card (pretraining
    included: the shared representation is part of what the heads cost)."""
    stages = (card.get("training") or {}).get("stages") or []
    return float(sum(float(stage.get("seconds", 0.0)) for stage in stages))


def efficiency(shared: EvaluatedModel, separate: list[EvaluatedModel]) -> dict[str, Any]:
    """Parameters and training time of ``shared`` against the separate models of its tasks."""
    by_task: dict[str, EvaluatedModel] = {}
    for model in separate:
        if len(model.tasks) != 1:
            raise UserInputError(f"separate model {model.label} has tasks {model.tasks}; a "
                                 "separate model has exactly one task")
        by_task[model.tasks[0]] = model
    missing = [t for t in shared.tasks if t not in by_task]
    if missing:
        raise UserInputError(f"no separate model for task {missing[0]!r} of {shared.label}; "
                             "give one per task with --separate")
    chosen = [by_task[t] for t in shared.tasks]
    params = sum(m.parameters for m in chosen)
    seconds = sum(m.training_seconds for m in chosen)
    return {"shared": shared.label, "tasks": shared.tasks,
            "shared_parameters": shared.parameters, "separate_parameters": params,
            "parameter_ratio": shared.parameters / params if params else math.nan,
            "shared_seconds": shared.training_seconds, "separate_seconds": seconds,
            "time_ratio": shared.training_seconds / seconds if seconds else math.nan,
            "separate": {m.tasks[0]: m.label for m in chosen}}


def _paired(models: list[EvaluatedModel], task: str, rows_key: str, values_key: str):
    """(label A, label B, values A, values B) for every pair of models holding
    ``values_key`` for ``task``, checked to come from the same test slices."""
    having = [m for m in models if values_key in m.metrics.get(task, {})]
    for i, first in enumerate(having):
        for second in having[i + 1:]:
            a, b = first.metrics[task], second.metrics[task]
            if a[rows_key] != b[rows_key]:
                raise UserInputError(f"{first.label} and {second.label} were tested on "
                                     f"different slices of {task!r}")
            yield first.label, second.label, a[values_key], b[values_key]


def mcnemar_pairs(models: list[EvaluatedModel], task: str) -> list[dict[str, Any]]:
    """McNemar's test between every pair of models that classified ``task``."""
    pairs = []
    for label_a, label_b, a, b in _paired(models, task, "rows", "correct"):
        statistic, p_value = mcnemar(a, b)
        pairs.append({"task": task, "a": label_a, "b": label_b,
                      "a_only_correct": sum(1 for x, y in zip(a, b, strict=True) if x and not y),
                      "b_only_correct": sum(1 for x, y in zip(a, b, strict=True) if y and not x),
                      "statistic": statistic, "p_value": p_value})
    return pairs


def dice_pairs(models: list[EvaluatedModel], task: str) -> list[dict[str, Any]]:
    """Wilcoxon signed-rank test on per-slice Dice between every pair that segmented ``task``."""
    pairs = []
    for label_a, label_b, a, b in _paired(models, task, "slice_rows", "slice_dice"):
        differences = [x - y for x, y in zip(a, b, strict=True)]
        nonzero = [d for d in differences if d != 0]
        pairs.append({"task": task, "a": label_a, "b": label_b,
                      "a_better": sum(d > 0 for d in differences),
                      "b_better": sum(d < 0 for d in differences),
                      "mean_difference": (sum(differences) / len(differences)
                                          if differences else math.nan),
                      "p_value": float(wilcoxon(nonzero).pvalue) if nonzero else 1.0})
    return pairs
