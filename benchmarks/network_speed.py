"""Network inference against NLLS: ms per 256x256 slice, both measured in the same run.

Loads the shipped HOMOU model (sha256-verified) and times, on the CPU:

* network inference (predict_maps: normalisation, the U-Net, masking) over 8 slices;
* the same network before this issue's speed work (16 channels at full resolution,
  GroupNorm, unfused FiLM), untrained, for comparison;
* NLLS (4+4) for both maps, inside the body mask and over every pixel, and two-point.

    .venv/bin/python benchmarks/network_speed.py [--threads 2] [--slices 8] [--repeats 5]

Target (issue 4): network inference <= 50 ms per 256x256 slice on 2 CPU cores. Timings
depend on what else runs on the machine; run it on an otherwise idle one.
"""

from __future__ import annotations

import argparse
import time

import torch

from QMRIMappingLib.evaluation.speed import _median_ms, measure_speed
from QMRIMappingLib.networks import build_model, default_config, load_verified
from QMRIMappingLib.performance import tune_memory_allocator


def previous_default_ms(slices: int, repeats: int) -> float:
    """ms per slice of the former default network (16 ch, 4 levels, GroupNorm)."""
    torch.manual_seed(0)
    network = build_model(default_config("homou")).eval()
    images = torch.rand(slices, 3, 256, 256)
    times = torch.tensor([[30.0, 34.6]]).expand(slices, 2)

    def run():
        with torch.inference_mode():
            network(images, times)

    return _median_ms(run, repeats) / slices


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads (2)")
    parser.add_argument("--slices", type=int, default=8, help="slices per call (8)")
    parser.add_argument("--repeats", type=int, default=5, help="timed calls (median, 5)")
    parser.add_argument("--model", default="homou", help="installed model (homou)")
    args = parser.parse_args()
    tune_memory_allocator()
    torch.set_num_threads(args.threads)
    network, info = load_verified(args.model)
    started = time.perf_counter()
    rows = measure_speed(network, args.slices, args.repeats)
    rows.insert(1, {"method": "former default net (16 ch, GroupNorm), untrained",
                    "ms per slice": previous_default_ms(args.slices, args.repeats)})
    print(f"{torch.get_num_threads()} CPU threads, torch {torch.__version__}, "
          f"{args.slices} slices of 256x256, median of {args.repeats}; model "
          f"{info['name']} ({network.config['base_channels']} channels, "
          f"{network.config['levels']} levels, norm {network.config['norm']})")
    for row in rows:
        print(f"  {row['method']:52s} {row['ms per slice']:8.1f} ms/slice")
    network_ms = rows[0]["ms per slice"]
    verdict = "meets" if network_ms <= 50.0 else "MISSES"
    print(f"network inference {network_ms:.1f} ms/slice: {verdict} the 50 ms target "
          f"({time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
