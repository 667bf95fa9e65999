"""The ``qmri fit`` job: import, fit, summarise against ROI and reference, write atomically."""

from __future__ import annotations

import json
import platform
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from . import __version__
from .errors import UserInputError
from .fitting import STATUS_DESCRIPTIONS, FitOptions, FitStatus
from .importers import load_input
from .map_writer import read_reference_map, write_map_files
from .mapping import MapOutcome, compute_maps, fit_mask, input_sigma
from .mapping_input import MappingInput
from .output_folder import check_output_folder, staged_output
from .roi import read_roi, read_roi_regions
from .statistics import relative_mean_absolute_error, roi_statistics


def run_fit(input_path: str | Path, out_dir: str | Path, *, method: str = "nlls",
            roi: str | Path | None = None, reference: str | Path | None = None,
            overwrite: bool = False, override_file: str | Path | None = None,
            echo_map: str | None = None, mask: str | Path = "auto",
            options: FitOptions | None = None,
            two_point_times: dict[str, float] | None = None,
            progress: bool = False, model: str | Path | None = None,
            allow_unverified: bool = False) -> dict:
    """Fit the maps of one input folder or file and write them with ``summary.json``.

    ``method="network"`` runs ``model`` (an installed model name or a weights file with
    its card; default the HOMOU model) on 3 of the images; ``summary.json`` then names
    the model, its sha256 and the 3 input images in ``method``.

    Returns the summary. Raises :class:`UserInputError` for anything the user must fix;
    then no output folder is left behind and the inputs are untouched.
    """
    options = options or FitOptions()
    options.validate()
    check_output_folder(out_dir, overwrite)
    if reference is not None and not Path(reference).is_dir():
        raise UserInputError(f"--reference {reference} is not a folder of reference maps")
    mapping_input = load_input(input_path, override_file=override_file, echo_map=echo_map,
                               progress=progress)
    geometry = mapping_input.geometry
    regions = read_roi_regions(roi, geometry) if roi is not None else []
    roi_union = None
    if regions:
        roi_union = np.any([region for _, region in regions], axis=0)
    sigma, _ = input_sigma(mapping_input, options)
    if isinstance(mask, str) and mask in ("auto", "none"):
        mask_array = fit_mask(mapping_input, mask, sigma, roi_union)
        mask_description = mask
    else:
        loaded, mask_description = read_roi(mask, geometry)
        mask_array = fit_mask(mapping_input, loaded, sigma, roi_union)
    references = {}
    if reference is not None:
        references = {name: read_reference_map(Path(reference), name, geometry)
                      for name in mapping_input.map_series()}
    if model is not None and method != "network":
        raise UserInputError(f"--model is for --method network, not {method}")
    network_options = ({"model": None if model is None else str(model),
                        "allow_unverified": allow_unverified} if method == "network" else {})
    outcomes = compute_maps(mapping_input, method, options, mask_array, two_point_times,
                            progress, **network_options)

    with staged_output(out_dir, overwrite) as staging:
        maps_summary = {}
        for name, outcome in outcomes.items():
            files = write_map_files(outcome.result, name, geometry, staging)
            maps_summary[name] = _map_summary(outcome, files, regions,
                                              references.get(name))
        summary = {
            "software": {"name": "SlicerMultiTaskQMRI", "version": __version__,
                         "python": platform.python_version()},
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "input": _input_summary(mapping_input),
            "method": {"name": method, **_method_details(method, options, outcomes)},
            "mask": mask_description if isinstance(mask_description, str) else str(mask),
            "roi": None if roi is None else {"file": str(roi),
                                             "regions": [name for name, _ in regions]},
            "reference": None if reference is None else str(reference),
            "status_codes": {int(code): text for code, text in STATUS_DESCRIPTIONS.items()},
            "maps": maps_summary,
        }
        (staging / "summary.json").write_text(json.dumps(_clean(summary), indent=2) + "\n")
    return summary


def _input_summary(mapping_input: MappingInput) -> dict:
    return {
        "path": str(mapping_input.source),
        "kind": mapping_input.kind,
        "echo_map": mapping_input.echo_map,
        "echo_map_reason": mapping_input.echo_map_reason or None,
        "grid": {"size": list(mapping_input.geometry.size),
                 "spacing_mm": list(mapping_input.geometry.spacing)},
        "images": [{"source": image.source, "role": image.role, "time_ms": image.time_ms,
                    "reason": image.reason} for image in mapping_input.images],
        "notes": list(mapping_input.notes),
    }


def _method_details(method: str, options: FitOptions, outcomes: dict) -> dict:
    details = asdict(options)
    if method == "network":
        record = dict(next(iter(outcomes.values())).result.model)
        record["uncertainty_files"] = [f"{name}_uncertainty.nii.gz" for name, o in
                                       outcomes.items() if o.result.uncertainty is not None]
        return {"model": record, "device_requested": options.device,
                "input_images": record.pop("input_images")}
    if method == "nlls":
        details["model"] = ("S0*exp(-t/T) + C" if options.offset else "S0*exp(-t/T)")
        details["solver"] = ("Levenberg-Marquardt" if options.offset or options.noise_floor
                             else "variable projection (Newton on R, S0 in closed form)")
        details["noise_model"] = "Rician expectation" if options.noise_floor else "Gaussian"
    else:
        details = {"model": "T = (t2 - t1) / ln(S(t1)/S(t2))",
                   "t_bounds_ms": list(options.t_bounds_ms)}
    return details


def _map_summary(outcome: MapOutcome, files: dict, regions: list,
                 reference: tuple[np.ndarray, Path] | None) -> dict:
    result = outcome.result
    counts = np.bincount(result.status.ravel(), minlength=len(FitStatus))
    summary = {
        "unit": "ms",
        "times_ms": outcome.times_ms,
        "images_used": [{"source": image.source, "role": image.role,
                         "time_ms": image.time_ms} for image in outcome.images],
        "sigma": result.sigma,
        "sigma_source": result.sigma_source,
        "sd_kind": result.sd_kind,
        "iterations": result.iterations,
        "warnings": result.warnings,
        "status_counts": {FitStatus(code).name.lower(): int(counts[code])
                          for code in range(len(FitStatus))},
        "files": files,
        "roi": [{"name": name, **roi_statistics(result.t_ms, region)}
                for name, region in regions],
    }
    if reference is not None:
        values, path = reference
        summary["reference"] = {"file": str(path), "roi": [
            {"name": name, **relative_mean_absolute_error(result.t_ms, values, region)}
            for name, region in regions]}
        if not regions:
            summary["reference"]["all_fitted"] = relative_mean_absolute_error(
                result.t_ms, values, np.isfinite(result.t_ms))
    return summary


def _clean(value):
    """JSON-safe copy: NaN and infinities become null, numpy scalars plain numbers."""
    if isinstance(value, dict):
        return {str(key): _clean(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(item) for item in value]
    if isinstance(value, (np.floating, float)):
        return float(value) if np.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, Path):
        return str(value)
    return value
