"""Shared multi-task learning machinery used by every module of the extension.

Loss weighting (fixed, homoscedastic uncertainty, dynamic weight average), the training
loop and the metrics live here once; QMRIMapping and UMSRep import them.

Modules (import them directly; nothing is imported here so that ``metrics`` works
without torch):

* :mod:`MultiTaskLib.weighting` — FixedWeighting, manual_pair, UncertaintyWeighting,
  DynamicWeightAverage, make_weighting
* :mod:`MultiTaskLib.laplace` — laplace_nll, gaussian_nll and the σ floor
* :mod:`MultiTaskLib.training` — Trainer, StepOutput, TrainConfig, TrainResult
* :mod:`MultiTaskLib.config` — TrainConfig, ConfigError
* :mod:`MultiTaskLib.loaders` — make_loader (seeded, DistributedSampler under torchrun)
* :mod:`MultiTaskLib.distributed` — setup_distributed, cleanup, wrap_model, DistContext
* :mod:`MultiTaskLib.metrics` — mae, rmae, psnr, ssim, dice, iou, accuracy, f1, mcc,
  mcnemar
* :mod:`MultiTaskLib.seeding`, :mod:`MultiTaskLib.checkpoint`,
  :mod:`MultiTaskLib.csv_log`, :mod:`MultiTaskLib.records` — reproducibility, checkpoint
  files, the CSV log and the per-epoch records
"""
