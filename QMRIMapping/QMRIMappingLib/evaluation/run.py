"""``qmri evaluate``: get the networks, run the chosen experiments, write the report."""

from __future__ import annotations

import json
import platform
import time
from pathlib import Path

import torch

from .. import __version__
from ..networks.cohort import TEST_SEED_START
from .ablations import run_design, run_seeds
from .comparison import run_comparison
from .config import load_eval_config
from .context import Context
from .experiments import run_labels, run_lambda, run_robustness
from .models import ensure_models, training_table
from .recipes import needed_keys
from .report import Section, Table, write_report
from .speed import measure_speed

SNR_NOTE = (
    "SNR is the mean noise-free liver signal of the shared zero-preparation image divided "
    "by the noise σ (Rician magnitude noise). At SNR {snr:g} the liver signal of the "
    "weighted inputs is about {low:.0f}-{high:.0f} σ at TSL 30 / TP 34.6 ms (liver T2 "
    "29-38 ms, T1rho 39-50 ms) and falls "
    "further at 50 ms. We take this as the clinical operating point of breath-hold liver "
    "T1rho/T2-prepared imaging at 3 T with parallel imaging, where the images are noisy "
    "enough for the choice of estimator to matter; it is an assumption about the protocol, "
    "not a measurement, so the SNR sweep reports 20-80 as well.")


def run_evaluation(config_path: str | Path, out: str | Path | None = None,
                   progress: bool = False, log=print) -> list[Path]:
    """Run the evaluation described by ``config_path``; returns the files written."""
    started = time.perf_counter()
    config = load_eval_config(config_path, out)
    config.out.mkdir(parents=True, exist_ok=True)
    keys = needed_keys(config.experiments, config.t2_loss_scales, config.lambdas,
                      config.seeds)
    models = ensure_models(config, keys, progress=progress, log=log)
    started = time.perf_counter()  # the evaluation proper, without training
    context = Context(config, models, log=log)
    sections: list[Section] = []
    summary: dict = {}
    if "comparison" in config.experiments:
        section, summary["comparison"] = run_comparison(context)
        sections.append(section)
    if "robustness" in config.experiments:
        sections.append(run_robustness(context))
    if "lambda" in config.experiments:
        sections.append(run_lambda(context))
    if "labels" in config.experiments:
        sections.append(run_labels(context))
    if "seeds" in config.experiments:
        section, summary["seeds"] = run_seeds(context)
        sections.append(section)
    if "design" in config.experiments:
        sections.append(run_design(context))
    if "speed" in config.experiments:
        speed = Section("Speed (ms per 256x256 slice, same run)")
        speed.tables.append(Table(
            "speed", "Inference against NLLS, CPU, same process and run",
            ["method", "ms per slice", "ms per volume", "slices", "matrix", "threads"],
            measure_speed(models["homou"].network, config.speed["slices"],
                          config.speed["repeats"], config.test["matrix"], context.pair)))
        sections.append(speed)
    sections.append(Section("Networks used", tables=[Table(
        "networks", "Networks: where they came from and how long they trained",
        ["model", "label", "source", "best_epoch", "epochs_run", "optimiser_steps",
         "training_time_s", "sha256"], training_table(models))]))
    test = config.test
    snr = float(test["snr"])
    header = [
        "# Network evaluation on the held-out phantom cohort", "",
        f"Reproduce: `qmri evaluate --config {config.source}`", "",
        f"Held-out cohort: {test['subjects']} phantom subjects (seeds {TEST_SEED_START}.."
        f"{TEST_SEED_START + test['subjects'] - 1}, never used in training), "
        f"{test['slices']} slices of {test['matrix']}x{test['matrix']}, shim artifact on, "
        f"SNR {snr:g}; network and two-point inputs: shared image + TSL {test['pair'][0]:g} "
        f"ms + TP {test['pair'][1]:g} ms.", "",
        SNR_NOTE.format(snr=snr, low=snr * 0.35, high=snr * 0.51), "",
        f"Run: qmri {__version__}, torch {torch.__version__}, {torch.get_num_threads()} CPU "
        f"threads, {platform.machine()}; evaluation took "
        "{seconds:.0f} s (training excluded).",
    ]
    seconds = time.perf_counter() - started
    header[-1] = header[-1].replace("{seconds:.0f}", f"{seconds:.0f}")
    written = write_report(sections, config.out, header)
    results = config.out / "results.json"
    results.write_text(json.dumps({"config": config.raw, "summary": summary},
                                  indent=2, default=str) + "\n")
    return written + [results]
