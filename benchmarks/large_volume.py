"""Memory stays bounded on a large volume: 512x512x100 voxels, 4 T1rho + 4 T2 images.

Fits both maps of a synthetic 512x512x100 volume (Rician noise, SNR 50) and prints the
wall time and the peak resident memory next to the size of the input and output arrays,
so the overhead of the fit itself (bounded by FitOptions.chunk_voxels) can be read off.

    .venv/bin/python benchmarks/large_volume.py [--slices 100]
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np
import torch

from QMRIMappingLib.fitting import FitOptions, fit_maps
from QMRIMappingLib.performance import tune_memory_allocator


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slices", type=int, default=100)
    parser.add_argument("--matrix", type=int, default=512)
    args = parser.parse_args()
    tune_memory_allocator()
    torch.set_num_threads(2)
    rng = np.random.default_rng(0)
    shape = (args.slices, args.matrix, args.matrix)
    tsl = np.array([0.0, 10.0, 30.0, 50.0])
    tp = np.array([0.0, 18.2, 34.6, 51.0])
    sigma = 20.0
    t1rho = rng.uniform(35, 60, shape[1:]).astype(np.float32)
    t2 = rng.uniform(25, 45, shape[1:]).astype(np.float32)

    def images(times, truth):
        stack = np.empty((len(times),) + shape, dtype=np.float32)
        for index, t in enumerate(times):
            clean = 1000.0 * np.exp(-t / truth)
            for z in range(shape[0]):
                noise = rng.normal(0, sigma, (2,) + shape[1:]).astype(np.float32)
                stack[index, z] = np.hypot(clean + noise[0], noise[1])
        return stack

    t1rho_images = images(tsl, t1rho)
    t2_images = images(tp, t2)
    t2_images[0] = t1rho_images[0]
    input_mb = (t1rho_images.nbytes + t2_images.nbytes) / 2**20
    before_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    start = time.perf_counter()
    results = fit_maps({"T1rho": (t1rho_images, tsl), "T2": (t2_images, tp)},
                       options=FitOptions(sigma=sigma))
    seconds = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    output_mb = sum(getattr(r, f).nbytes for r in results.values()
                    for f in ("t_ms", "s0", "r2", "residual_rms", "sd_crb_ms", "sd_cov_ms",
                              "status")) / 2**20
    voxels = int(np.prod(shape))
    print(f"volume {shape[2]}x{shape[1]}x{shape[0]} ({voxels / 1e6:.1f} M voxels), 4+4 images")
    print(f"fit time {seconds:.1f} s ({2 * voxels / seconds / 1e6:.2f} M voxel-fits/s)")
    print(f"input arrays {input_mb:.0f} MiB, output maps {output_mb:.0f} MiB")
    print(f"peak RSS before fit {before_mb:.0f} MiB, after fit {peak_mb:.0f} MiB; "
          f"growth beyond the output maps: {peak_mb - before_mb - output_mb:.0f} MiB "
          f"(chunk of {FitOptions().chunk_voxels} problems)")


if __name__ == "__main__":
    main()
