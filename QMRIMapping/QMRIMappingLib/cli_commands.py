"""Sub-commands of ``qmri``: their options, help texts and handlers."""

from __future__ import annotations

import argparse
from pathlib import Path

from .errors import UserInputError
from .fitting import FitOptions

_FORMATS = ("dicom", "nifti")

_INPUT_HELP = ("a DICOM folder (any nesting; T1rho/T2-prepared or multi-echo series), a folder "
               "of dcm2niix NIfTI files with JSON sidecars (EchoTime, SpinLockTime, T2PrepTime "
               "in seconds), or one 4-D NIfTI whose sidecar lists the times")


def add_phantom(commands) -> None:
    parser = commands.add_parser(
        "phantom", help="write digital liver phantom subjects (T1rho + T2-prepared images)",
        description="Write phantom subjects, each with images/ (DICOM with Philips-style "
                    "SeriesDescription times, or NIfTI+JSON) and ground_truth/ (T1rho.nii.gz "
                    "and T2.nii.gz in ms, roi.nii.gz, labels). Protocol: TSL 0/10/30/50 ms, "
                    "TP 0/18.2/34.6/51.0 ms with one shared zero image.")
    parser.add_argument("--subjects", type=_positive_int, default=1,
                        help="number of subjects (default 1)")
    parser.add_argument("--out", type=Path, required=True, help="output folder (created)")
    parser.add_argument("--format", choices=_FORMATS, default="dicom",
                        help="image format (default dicom)")
    parser.add_argument("--seed", type=int, default=0,
                        help="seed of the first subject; subject i uses seed+i (default 0)")
    parser.add_argument("--snr", type=float, default=50.0,
                        help="SNR: mean liver signal of the shared image / noise sigma "
                             "(default 50)")
    parser.add_argument("--matrix", type=int, default=256, help="in-plane matrix (default 256)")
    parser.add_argument("--slices", type=_positive_int, default=4,
                        help="slices per subject (default 4)")
    parser.add_argument("--motion", type=float, default=0.0, metavar="MM",
                        help="rigid motion between images, in mm (default 0: none)")
    parser.add_argument("--no-shim-artifact", action="store_true",
                        help="no signal degradation outside the shim box")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing --out")
    parser.set_defaults(handler=_run_phantom)


def add_inspect(commands) -> None:
    parser = commands.add_parser(
        "inspect", help="show what an input holds: images, times, roles and why",
        description="Print the images found, their weighting times (ms), their roles "
                    "(shared, t1rho, t2, echo), which maps they feed, and the reason for each "
                    f"decision. INPUT is {_INPUT_HELP}.")
    parser.add_argument("input", type=Path, metavar="INPUT")
    _add_import_options(parser)
    parser.set_defaults(handler=_run_inspect)


def add_fit(commands) -> None:
    parser = commands.add_parser(
        "fit", help="fit T1rho/T2 (or T2/T2*) maps by NLLS, two-point or a network",
        description=f"Fit relaxation maps. INPUT is {_INPUT_HELP}. Writes <map>.nii.gz "
                    "(T in ms) with <map>_S0, _R2, _rms, _sd (ms), _sd_cov (ms) and _status, "
                    "plus summary.json. Maps: T1rho and T2 for prepared series; a multi-echo "
                    "series gives T2 (spin echo) or T2star (gradient echo, from "
                    "ScanningSequence; override with --echo-map). --method network runs a "
                    "trained network on the shared image and one T1rho- and one T2-weighted "
                    "image: _S0 is then the shared image, _R2/_rms/_sd are NaN, HETEU models "
                    "add <map>_uncertainty, and summary.json names the model, its sha256 and "
                    "the 3 images used.")
    parser.add_argument("input", type=Path, metavar="INPUT")
    parser.add_argument("--out", type=Path, required=True, help="output folder (created)")
    parser.add_argument("--method", choices=("nlls", "two-point", "network"), default="nlls",
                        help="nlls: all images, non-linear least squares (default); "
                             "two-point: closed form from the shortest-time image and one more; "
                             "network: a trained multi-task network on the shared image and "
                             "one T1rho- and one T2-weighted image (the two-point images)")
    parser.add_argument("--model", metavar="NAME|PATH",
                        help="network method: an installed model (homou by default; see "
                             "QMRIMapping/Resources/Models) or a .pt weights file with its "
                             ".json model card. HETEU models also write <map>_uncertainty")
    parser.add_argument("--unverified", action="store_true",
                        help="network method: accept a weights file that has no model card "
                             "(its sha256 cannot be checked)")
    parser.add_argument("--roi", type=Path,
                        help="ROI for statistics: NIfTI/NRRD labelmap or Slicer .seg.nrrd; "
                             "one row per label or segment")
    parser.add_argument("--reference", type=Path,
                        help="folder with reference maps named like the outputs "
                             "(T1rho.nii.gz, T2.nii.gz, in ms) for RMAE in the ROI")
    parser.add_argument("--mask", default="auto",
                        help="voxels to fit: auto (signal above 5 sigma, default), none (all), "
                             "or a labelmap file")
    parser.add_argument("--sigma", type=float,
                        help="noise sigma in signal units (default: from the image background)")
    parser.add_argument("--noise-floor", action="store_true",
                        help="fit the Rician expectation of the signal (for low SNR)")
    parser.add_argument("--offset", action="store_true",
                        help="3-parameter model S0*exp(-t/T)+C (needs more than 4 points)")
    parser.add_argument("--t-min", type=float, default=1.0, help="lower bound of T in ms")
    parser.add_argument("--t-max", type=float, default=2000.0, help="upper bound of T in ms")
    parser.add_argument("--two-point-times", metavar="MAP=MS[,MAP=MS]",
                        help="later image of the two-point (and network) method per map, e.g. "
                             "T1rho=30,T2=34.6 (default: the median later time)")
    parser.add_argument("--device", default="auto",
                        help="auto (CUDA when present), cpu or cuda")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing --out")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    _add_import_options(parser)
    parser.set_defaults(handler=_run_fit)


def add_demo(commands) -> None:
    parser = commands.add_parser(
        "demo", help="generate a phantom subject, fit it and draw the maps",
        description="The main job on the built-in phantom: writes a DICOM phantom subject, "
                    "fits T1rho and T2 by NLLS through the DICOM importer, and writes the maps, "
                    "summary.json (ROI statistics and RMAE against ground truth) and "
                    "qmri-demo.png to --out.")
    parser.add_argument("--out", type=Path, default=Path("qmri-demo"),
                        help="output folder (default ./qmri-demo)")
    parser.add_argument("--seed", type=int, default=0, help="phantom seed (default 0)")
    parser.add_argument("--snr", type=float, default=50.0, help="phantom SNR (default 50)")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing --out")
    parser.set_defaults(handler=_run_demo)


def _add_import_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--times-file", type=Path, dest="override_file",
                        help="CSV (series,time_ms,role) or JSON/YAML that sets times and roles; "
                             "always wins over the headers")
    parser.add_argument("--echo-map", choices=("T2", "T2star"),
                        help="name of the map of a multi-echo series (default: from the "
                             "sequence type)")


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _parse_two_point(text: str | None) -> dict[str, float] | None:
    if not text:
        return None
    pairs = {}
    for item in text.split(","):
        name, _, value = item.partition("=")
        try:
            pairs[name.strip()] = float(value)
        except ValueError:
            raise UserInputError(
                f"--two-point-times '{item}' is not MAP=MS (e.g. T1rho=30,T2=34.6)") from None
    return pairs


def _run_phantom(args) -> int:
    from .phantom_cohort import write_cohort

    folders = write_cohort(args.out, subjects=args.subjects, fmt=args.format, seed=args.seed,
                           snr=args.snr, matrix=args.matrix, n_slices=args.slices,
                           motion_mm=args.motion, shim_artifact=not args.no_shim_artifact,
                           overwrite=args.overwrite, progress=True)
    print(f"wrote {len(folders)} subject(s) to {args.out}")
    return 0


def _run_inspect(args) -> int:
    from .importers import describe_input, load_input

    mapping_input = load_input(args.input, override_file=args.override_file,
                               echo_map=args.echo_map, progress=True)
    print(describe_input(mapping_input))
    return 0


def _run_fit(args) -> int:
    from .pipeline import run_fit

    options = FitOptions(t_bounds_ms=(args.t_min, args.t_max), offset=args.offset,
                         noise_floor=args.noise_floor, sigma=args.sigma, device=args.device)
    summary = run_fit(args.input, args.out, method=args.method, roi=args.roi,
                      reference=args.reference, overwrite=args.overwrite,
                      override_file=args.override_file, echo_map=args.echo_map,
                      mask=args.mask if args.mask in ("auto", "none") else Path(args.mask),
                      options=options, two_point_times=_parse_two_point(args.two_point_times),
                      progress=not args.quiet, model=args.model,
                      allow_unverified=args.unverified)
    _print_summary(summary, args.out)
    return 0


def _run_demo(args) -> int:
    from .demo import run_demo

    summary = run_demo(args.out, seed=args.seed, snr=args.snr, overwrite=args.overwrite)
    _print_summary(summary, args.out)
    print(f"figure: {Path(args.out) / 'qmri-demo.png'}")
    return 0


def _print_summary(summary: dict, out: Path) -> None:
    method = summary.get("method", {})
    if method.get("name") == "network":
        model = method["model"]
        state = "sha256 verified" if model["verified"] else "UNVERIFIED (no model card)"
        print(f"network model {model['name']} ({model['label']}), {state}, on {model['device']}")
        print("input images: " + "; ".join(f"{image['role']} {image['time_ms']:g} ms"
                                           for image in method["input_images"]))
    for name, info in summary["maps"].items():
        times = ", ".join(f"{t:g}" for t in info["times_ms"])
        print(f"{name}: times {times} ms")
        for region in info["roi"]:
            print(f"  ROI {region['name']}: n={region['count']} mean={region['mean']:.2f} ms "
                  f"sd={region['sd']:.2f} ms median={region['median']:.2f} ms")
        for region in (info.get("reference") or {}).get("roi", []):
            print(f"  RMAE vs reference ({region['name']}): {region['rmae_percent']:.2f} %")
    print(f"wrote {out}/summary.json")
