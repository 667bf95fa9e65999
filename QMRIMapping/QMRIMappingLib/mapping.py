"""Turn a MappingInput into maps by NLLS, the two-point closed form or a trained network.

``network`` runs an installed model (``available_models()``) on the shared image and
one weighted image per map (``network_method.py``); it is what the Slicer module's
method chooser offers once models are installed (see ``methods.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import UserInputError
from .fitting import FitOptions, FitResult, fit_maps, signal_mask, two_point_fit
from .fitting.noise import estimate_background_sigma
from .mapping_input import MappingInput, WeightedImage

METHODS = ("nlls", "two-point", "network")


@dataclass
class MapOutcome:
    """A fitted map with the images and times that went into it."""

    name: str
    result: FitResult
    images: list[WeightedImage]

    @property
    def times_ms(self) -> list[float]:
        return [image.time_ms for image in self.images]


def fit_mask(mapping_input: MappingInput, mode: str | np.ndarray, sigma: float | None,
             roi: np.ndarray | None = None) -> np.ndarray | None:
    """The voxels to fit: ``auto`` (signal above noise), ``none`` (all), or a given mask.

    ROI voxels are always fitted, so ROI statistics never lose voxels to the mask.
    """
    if isinstance(mode, np.ndarray):
        mask = mode.astype(bool)
    elif mode == "none":
        return None
    elif mode == "auto":
        first = min(mapping_input.images, key=lambda image: image.time_ms)
        mask = signal_mask(first.data, sigma)
    else:
        raise UserInputError(f"mask '{mode}' is unknown: use auto, none or a mask file")
    return mask if roi is None else (mask | roi)


def input_sigma(mapping_input: MappingInput, options: FitOptions) -> tuple[float | None, str]:
    """σ given by the user, or estimated from the background of the least-weighted image."""
    if options.sigma is not None:
        return options.sigma, "given by the user"
    first = min(mapping_input.images, key=lambda image: image.time_ms)
    return estimate_background_sigma(first.data)


def available_models() -> list:
    """Installed network models (name, label, weights path, card), the default first."""
    from .networks.registry import available_models as installed

    return installed()


def compute_maps(mapping_input: MappingInput, method: str = "nlls",
                 options: FitOptions | None = None, mask: np.ndarray | None = None,
                 two_point_times: dict[str, float] | None = None,
                 progress: bool = False, model: str | None = None,
                 allow_unverified: bool = False) -> dict[str, MapOutcome]:
    """Fit every map the input supports (T1rho, T2, or the echo map) with ``method``.

    ``two_point_times`` picks the later image of each map for "two-point" and the
    weighted input image of each map for "network". ``model`` (network only) is an
    installed model name or a weights file (default: the HOMOU model).
    """
    options = options or FitOptions()
    if method == "network":
        from .network_method import network_maps

        return network_maps(mapping_input, model, options, mask, two_point_times,
                            allow_unverified=allow_unverified)
    if model is not None:
        raise UserInputError(f"--model is for the network method, not '{method}'")
    series = mapping_input.map_series()
    if method == "nlls":
        stacks = {name: mapping_input.stack(images) for name, images in series.items()}
        results = fit_maps(stacks, mask, options, progress)
        return {name: MapOutcome(name, results[name], series[name]) for name in series}
    if method == "two-point":
        sigma, source = input_sigma(mapping_input, options)
        outcomes = {}
        for name, images in series.items():
            first, second = two_point_pair(name, images, (two_point_times or {}).get(name))
            result = two_point_fit(first.data, second.data, first.time_ms, second.time_ms,
                                   mask, options.t_bounds_ms, sigma, source)
            outcomes[name] = MapOutcome(name, result, [first, second])
        return outcomes
    raise UserInputError(f"method '{method}' is unknown: use one of {', '.join(METHODS)}")


def two_point_pair(name: str, images: list[WeightedImage], wanted_ms: float | None
                   ) -> tuple[WeightedImage, WeightedImage]:
    """The shortest-time image and one later image for the two-point closed form.

    By default the later image is the one at the median of the later times (TSL 30 ms and
    TP 34.6 ms in the Huang et al. protocol), near the noise-optimal time of about 1.1·T
    for liver; ``wanted_ms`` picks another.
    """
    ordered = sorted(images, key=lambda image: image.time_ms)
    first, later = ordered[0], ordered[1:]
    if wanted_ms is None:
        return first, later[(len(later) - 1) // 2]
    for image in later:
        if abs(image.time_ms - wanted_ms) < 1e-6 * max(1.0, wanted_ms):
            return first, image
    available = ", ".join(f"{image.time_ms:g}" for image in later)
    raise UserInputError(
        f"--two-point-times: {name} has no image at {wanted_ms:g} ms; available: {available}")
