"""Robustness (Table III), the manual-lambda sweep (Fig. 3) and the label choice.

* Table III (Huang et al.): the T2 term of the loss multiplied by s (100, 10000), which
  is what scaling the T2-weighted images does to a fixed-weight loss: the fixed
  baseline then serves T2 almost only, while uncertainty weighting divides each task
  loss by its learned σ and should not care; and motion between the images.
* Fig. 3: fixed weights λa·L(T1rho) + (1 − λa)·L(T2) against the learned weighting.
* Label choice (Epstein et al.): over repeated noise draws of one subject, the per-pixel
  bias (mean estimate − truth) and SD of each estimator, not only its RMAE.
"""

from __future__ import annotations

import numpy as np

from .comparison import _averages
from .context import Context
from .figures import bias_variance_figure, lambda_figure
from .recipes import LABEL_ROWS, lambda_key, scaled_model_key
from .report import Section, Table
from .scoring import NLLS, TASKS, TWO_POINT, network_maps, nlls_maps, two_point_maps
from .subjects import noise_draws


def learned_sigma(context: Context, key: str) -> dict[str, float]:
    weighting = context.models[key].card.get("metrics", {}).get("weighting", {})
    return {task: weighting.get(task) for task in TASKS}


def scaled_scores(context: Context, kind: str, scale: float) -> tuple[str, dict, dict]:
    """Model key, scores against ground truth and learned σ (HOMOU kinds; else empty) of
    the network of ``kind`` trained with the T2 loss times ``scale``."""
    key = scaled_model_key(kind, scale)
    sigma = learned_sigma(context, key) if kind.endswith("homou") else {}
    return key, _averages(context, (key,), "gt"), sigma


def run_robustness(context: Context) -> Section:
    """Table III: T2 loss scale x1, x100, x10000 and motion corruption."""
    section = Section("Robustness (Table III)")
    rows = []
    for scale in [1.0] + list(context.config.t2_loss_scales):
        for kind, label in (("baseline", "Baseline"), ("homou", "Baseline+HOMOU")):
            key, gt, sigma = scaled_scores(context, kind, scale)
            ref = _averages(context, (key,), "nlls")
            rows.append({"T2 loss scale": scale, "method": label,
                         "T1rho vs GT %": gt["T1rho"], "T2 vs GT %": gt["T2"],
                         "T1rho vs NLLS %": ref["T1rho"], "T2 vs NLLS %": ref["T2"],
                         "sigma T1rho": sigma.get("T1rho"), "sigma T2": sigma.get("T2")})
    section.tables.append(Table(
        "table3_t2_scale", "Table III (a): T2 contrast in the loss scaled by s; RMAE (%) in "
        "the liver ROI", ["T2 loss scale", "method", "T1rho vs GT %", "T2 vs GT %",
                          "T1rho vs NLLS %", "T2 vs NLLS %", "sigma T1rho", "sigma T2"], rows,
        ["sigma: HOMOU's learned Laplace scales at the best validation epoch (they "
         "should grow with s for T2)."]))
    motion = context.config.test["motion_mm"]
    rows = []
    for label, method in ((TWO_POINT, TWO_POINT), (NLLS, NLLS), ("Baseline", ("baseline",)),
                          ("Baseline+HETEU", ("heteu",)), ("Baseline+HOMOU", ("homou",))):
        if isinstance(method, tuple) and method[0] not in context.models:
            continue
        still = _averages(context, method, "gt")
        moving = _averages(context, method, "gt", motion_mm=motion)
        rows.append({"method": label, "T1rho still %": still["T1rho"],
                     "T1rho motion %": moving["T1rho"], "T2 still %": still["T2"],
                     "T2 motion %": moving["T2"]})
    section.tables.append(Table(
        "table3_motion", f"Table III (b): rigid motion up to {motion:g} mm between the "
        "images; RMAE (%) against ground truth in the liver ROI",
        ["method", "T1rho still %", "T1rho motion %", "T2 still %", "T2 motion %"], rows,
        ["The networks were trained without motion; the shared image stays in place and "
         "every prepared image moves by its own small rigid transform (phantom/motion.py)."]))
    return section


def run_lambda(context: Context) -> Section:
    """Fig. 3: RMAE against the fixed weight λa, with HOMOU for comparison."""
    section = Section("Manual weighting sweep (Fig. 3)")
    values = sorted(set(context.config.lambdas) | {0.5})
    rows = []
    for value in values:
        key = "baseline" if value == 0.5 else lambda_key(value)
        gt = _averages(context, (key,), "gt")
        ref = _averages(context, (key,), "nlls")
        rows.append({"lambda_a": value, "model": key, "T1rho RMAE %": gt["T1rho"],
                     "T2 RMAE %": gt["T2"], "T1rho vs NLLS %": ref["T1rho"],
                     "T2 vs NLLS %": ref["T2"]})
    homou = _averages(context, ("homou",), "gt")
    homou_ref = _averages(context, ("homou",), "nlls")
    table_rows = rows + [{"lambda_a": None, "model": "homou (learned)",
                          "T1rho RMAE %": homou["T1rho"], "T2 RMAE %": homou["T2"],
                          "T1rho vs NLLS %": homou_ref["T1rho"],
                          "T2 vs NLLS %": homou_ref["T2"]}]
    section.tables.append(Table(
        "fig3_lambda", "Fig. 3: fixed weights λa·L(T1rho) + (1 − λa)·L(T2) against the "
        "learned uncertainty weighting; RMAE (%) in the liver ROI",
        ["lambda_a", "model", "T1rho RMAE %", "T2 RMAE %", "T1rho vs NLLS %",
         "T2 vs NLLS %"], table_rows))
    section.figures.append(lambda_figure(context.config.out / "fig3_lambda.png", rows, homou))
    return section


def run_labels(context: Context) -> Section:
    """Bias and SD over repeated noise draws of one test subject, per estimator."""
    config = context.config
    draws = config.label_noise_draws
    test = config.test
    clean, inputs = noise_draws(0, context.snr, draws, slices=test["slices"],
                                matrix=test["matrix"])
    roi = clean.roi > 0
    mask = clean.body_mask.astype(bool)
    truth = {"T1rho": clean.t1rho_ms, "T2": clean.t2_ms}
    pair = context.pair
    methods = [(NLLS, lambda mi: nlls_maps(mi, mask)),
               (TWO_POINT, lambda mi: two_point_maps(mi, mask, pair))]
    for label, key in LABEL_ROWS:
        network = context.models[key].network
        methods.append((label, lambda mi, n=network: network_maps([n], mi, mask, pair)))
    rows = []
    for label, run in methods:
        stacks = {task: [] for task in TASKS}
        for mapping_input in inputs:
            maps = run(mapping_input)
            for task in TASKS:
                stacks[task].append(maps[task][roi])
        row = {"method": label}
        for task in TASKS:
            values = np.stack(stacks[task])  # draws x ROI pixels
            gt = truth[task][roi]
            relative = (values - gt) / gt
            mean_rel = np.nanmean(relative, axis=0)
            row[f"{task} bias %"] = float(100 * np.nanmean(mean_rel))
            row[f"{task} abs bias %"] = float(100 * np.nanmean(np.abs(mean_rel)))
            row[f"{task} SD %"] = float(100 * np.nanmean(np.nanstd(values, axis=0, ddof=1)
                                                         / gt))
            row[f"{task} RMSE %"] = float(100 * np.sqrt(np.nanmean(relative ** 2)))
        rows.append(row)
    columns = ["method"] + [f"{t} {m}" for t in TASKS
                            for m in ("bias %", "abs bias %", "SD %", "RMSE %")]
    section = Section("Label choice: bias and variance over noise draws (Epstein et al.)")
    section.tables.append(Table(
        "labels_bias_variance", f"Bias and SD over {draws} noise draws of test subject 0 "
        f"(SNR {context.snr:g}), liver ROI, in % of the true value",
        columns, rows,
        ["bias %: mean signed error of the per-pixel mean estimate; abs bias %: mean of its "
         "magnitude (errors of opposite sign do not cancel; it includes the noise left in "
         "a mean over few draws, about 0.8 SD/sqrt(draws)); SD %: per-pixel SD over the "
         "draws; RMSE %: over pixels and draws (RMSE^2 ≈ bias^2 + SD^2). SL labels: "
         "GT = phantom truth, MLE = NLLS fit of the 4+4 training images, hybrid = 0.5 MLE "
         "+ 0.5 GT loss."]))
    section.figures.append(bias_variance_figure(config.out / "labels_bias_variance.png",
                                                rows))
    return section
