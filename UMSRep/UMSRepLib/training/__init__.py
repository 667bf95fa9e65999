"""Training: label-free pretraining, fine-tuning strategies and separate baselines.

Everything runs on :class:`MultiTaskLib.training.Trainer` (early stopping, checkpoints,
CSV log, progress bars, DDP) with loss weighting from :mod:`MultiTaskLib.weighting`.

* :mod:`.steps`       the step function: ``{task: batch}`` -> per-task losses and metrics
* :mod:`.schedules`   loaders that mix tasks: one task, alternating in a ratio, joint
* :mod:`.runner`      one timed ``Trainer.fit`` and what it reports (``StageRecord``)
* :mod:`.pretrain`    the denoising autoencoder: shared encoder + denoising head
* :mod:`.strategies`  fine-tuning heads: independent, alternating, joint
* :mod:`.baseline`    separate end-to-end models per task (the paper's comparison)
"""
