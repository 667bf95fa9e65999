"""Evaluation: per-task metrics, comparisons between models, and the markdown report.

* :mod:`.metrics`  metrics of one model on a test split (PSNR/SSIM, Dice/IoU, accuracy,
  F1, MCC) with the per-slice correctness needed for McNemar's test
* :mod:`.compare`  parameter counts and training time against separate models, and
  McNemar's test between models on the same test slices (the paper's Tables 3-6)
* :mod:`.report`   the comparison as markdown and JSON
"""
