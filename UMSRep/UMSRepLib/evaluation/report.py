"""The evaluation report as markdown (tables in the style of the paper's Tables 3-6)."""

from __future__ import annotations

import math
from typing import Any

from .compare import EvaluatedModel


def _number(value: Any, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def models_table(models: list[EvaluatedModel]) -> list[str]:
    lines = ["| model | tasks | encoder | parameters | training time (s) |",
             "|---|---|---|---:|---:|"]
    for m in models:
        lines.append(f"| {m.label} | {', '.join(m.tasks)} | {m.card.get('encoder_state', '-')} "
                     f"| {m.parameters:,} | {m.training_seconds:.1f} |")
    return lines


def metrics_table(models: list[EvaluatedModel]) -> list[str]:
    tasks: list[str] = []
    for m in models:
        tasks += [t for t in m.metrics if t not in tasks]
    lines = []
    for task in tasks:
        having = [m for m in models if task in m.metrics]
        kind = having[0].metrics[task]["kind"]
        lines += ["", f"**{task}** ({kind}, {having[0].metrics[task].get('slices', '-')} test "
                      "slices)", ""]
        if kind == "denoise":
            first = having[0].metrics[task]
            lines += [f"Noisy input (Gaussian σ = {first['sigma']}): PSNR "
                      f"{first['psnr_noisy_input']:.2f} dB, SSIM {first['ssim_noisy_input']:.3f}",
                      "", "| model | PSNR (dB) | SSIM |", "|---|---:|---:|"]
            lines += [f"| {m.label} | {_number(m.metrics[task]['psnr'], 2)} | "
                      f"{_number(m.metrics[task]['ssim'])} |" for m in having]
        elif kind == "segmentation":
            lines += ["| model | Dice | IoU | mean slice Dice |", "|---|---:|---:|---:|"]
            lines += [f"| {m.label} | {_number(m.metrics[task]['dice'])} | "
                      f"{_number(m.metrics[task]['iou'])} | "
                      f"{_number(m.metrics[task]['mean_slice_dice'])} |" for m in having]
        else:
            lines += ["| model | accuracy | F1 (macro) | MCC |", "|---|---:|---:|---:|"]
            lines += [f"| {m.label} | {_number(m.metrics[task].get('accuracy'))} | "
                      f"{_number(m.metrics[task].get('f1'))} | "
                      f"{_number(m.metrics[task].get('mcc'))} |" for m in having]
    return lines


def efficiency_table(rows: list[dict[str, Any]]) -> list[str]:
    lines = ["| shared model | tasks | parameters shared / separate | ratio | "
             "training time shared / separate (s) | ratio |", "|---|---|---|---:|---|---:|"]
    for r in rows:
        lines.append(f"| {r['shared']} | {', '.join(r['tasks'])} | {r['shared_parameters']:,} / "
                     f"{r['separate_parameters']:,} | {100 * r['parameter_ratio']:.1f} % | "
                     f"{r['shared_seconds']:.1f} / {r['separate_seconds']:.1f} | "
                     f"{100 * r['time_ratio']:.1f} % |")
    return lines


def mcnemar_table(pairs: list[dict[str, Any]]) -> list[str]:
    lines = ["| task | model A | model B | only A right | only B right | p (McNemar) |",
             "|---|---|---|---:|---:|---:|"]
    for p in pairs:
        lines.append(f"| {p['task']} | {p['a']} | {p['b']} | {p['a_only_correct']} | "
                     f"{p['b_only_correct']} | {p['p_value']:.3g} |")
    return lines


def dice_table(pairs: list[dict[str, Any]]) -> list[str]:
    lines = ["| task | model A | model B | slices A better | slices B better | "
             "mean Dice A − B | p (Wilcoxon) |", "|---|---|---|---:|---:|---:|---:|"]
    for p in pairs:
        lines.append(f"| {p['task']} | {p['a']} | {p['b']} | {p['a_better']} | "
                     f"{p['b_better']} | {p['mean_difference']:+.3f} | {p['p_value']:.3g} |")
    return lines


def markdown_report(models: list[EvaluatedModel], efficiency_rows: list[dict[str, Any]],
                    pairs: list[dict[str, Any]], title: str = "UMSRep evaluation",
                    segmentation_pairs: list[dict[str, Any]] | None = None) -> str:
    """The whole report: models, efficiency, metrics per task, McNemar, Wilcoxon."""
    lines = [f"## {title}", "", *models_table(models)]
    if efficiency_rows:
        lines += ["", "### Efficiency against separate models", "",
                  *efficiency_table(efficiency_rows)]
    lines += ["", "### Test metrics", *metrics_table(models)]
    if pairs:
        lines += ["", "### McNemar's test between models (same test slices)", "",
                  *mcnemar_table(pairs)]
    if segmentation_pairs:
        lines += ["", "### Wilcoxon signed-rank test on per-slice Dice (same test slices)", "",
                  *dice_table(segmentation_pairs)]
    return "\n".join(lines) + "\n"
