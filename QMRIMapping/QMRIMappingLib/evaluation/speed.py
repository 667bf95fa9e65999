"""Milliseconds per 256x256 slice: network inference against NLLS, in the same run.

Both are timed on the same slices of a phantom subject, on the CPU with torch's current
thread count (set ``--threads`` in ``benchmarks/network_speed.py``), after one warm-up
call, taking the median of ``repeats`` timed calls:

* network: :func:`~QMRIMappingLib.networks.inference.predict_maps` over all slices in
  one batch (normalisation, masking and copies included);
* NLLS (4+4): both maps from all 8 images with the fitting engine, inside the body mask
  (what ``qmri fit`` does) and over every pixel;
* two-point: both maps in closed form.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import numpy as np
import torch

from ..mapping import compute_maps
from ..networks.inference import predict_maps
from ..networks.models import MappingNetwork
from ..phantom import generate_subject
from .subjects import input_arrays


def _median_ms(run: Callable[[], object], repeats: int) -> float:
    run()  # warm-up (allocations, oneDNN kernel selection)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return 1000.0 * statistics.median(times)


def measure_speed(network: MappingNetwork, slices: int = 8, repeats: int = 3,
                  matrix: int = 256, pair: tuple[float, float] = (30.0, 34.6)) -> list[dict]:
    """Rows of (method, ms per slice, ms per volume) on a ``slices``-slice subject."""
    subject = generate_subject(12345, matrix=matrix, n_slices=slices, snr=30.0)
    mapping_input = subject.mapping_input()
    mask = subject.body_mask.astype(bool)
    everything = np.ones_like(mask)
    arrays = input_arrays(mapping_input, *pair)
    jobs = [
        ("network (" + network.config["architecture"] + "), whole slice",
         lambda: predict_maps(network, arrays, pair[0], pair[1], mask=mask, device="cpu",
                              batch_slices=slices)),
        ("NLLS (4+4), body mask",
         lambda: compute_maps(mapping_input, "nlls", mask=mask)),
        ("NLLS (4+4), every pixel",
         lambda: compute_maps(mapping_input, "nlls", mask=everything)),
        ("two-point, body mask",
         lambda: compute_maps(mapping_input, "two-point", mask=mask,
                              two_point_times={"T1rho": pair[0], "T2": pair[1]})),
    ]
    rows = []
    for name, run in jobs:
        total = _median_ms(run, repeats)
        rows.append({"method": name, "ms per slice": total / slices,
                     "ms per volume": total, "slices": slices, "matrix": matrix,
                     "threads": torch.get_num_threads(), "device": "cpu"})
    return rows
