"""Map a cohort in 3D Slicer from the Python console or the command line.

Each subject folder holds the weighted series (DICOM, or NIfTI with JSON sidecars) and
optionally an ROI file ``roi.seg.nrrd`` (or ``roi.nii.gz``). For every subject the script
maps T1rho/T2 with the chosen method, takes the ROI statistics and the RMAE against NLLS,
exports the maps (NRRD and DICOM Parametric Map) and saves the scene as ``scene.mrb``;
one CSV line per subject and map collects the numbers.

Run it headless::

    Slicer --no-main-window --python-script qmri_cohort.py -- COHORT_DIR OUTPUT_DIR \\
        [--method two-point]

or paste ``map_cohort(...)`` into the Python Interactor of a running Slicer.
"""

import argparse
import csv
import sys
from pathlib import Path

import slicer

ROI_NAMES = ("roi.seg.nrrd", "roi.nii.gz", "roi.nrrd")


def find_roi(subject: Path):
    """The subject's ROI file, or None (then the statistics cover all fitted voxels)."""
    for name in ROI_NAMES:
        for candidate in subject.rglob(name):
            return candidate
    return None


def image_folder(subject: Path) -> Path:
    """The folder with the weighted series (``images/`` when present)."""
    return subject / "images" if (subject / "images").is_dir() else subject


def map_cohort(cohort: Path, output: Path, method: str = "two-point") -> Path:
    """Map every subject folder of ``cohort``; returns the path of the summary CSV."""
    logic = slicer.util.getModuleLogic("QMRIMapping")
    if not logic.ensureDependencies(askConfirmation=False):
        raise RuntimeError("the Python packages QMRIMapping needs could not be installed")
    output.mkdir(parents=True, exist_ok=True)
    summary = output / "summary.csv"
    with summary.open("w", newline="") as handle:
        writer = None
        for subject in sorted(p for p in cohort.iterdir() if p.is_dir()):
            slicer.mrmlScene.Clear()
            reference = "nlls" if method != "nlls" else None
            result = logic.run(str(image_folder(subject)), roi=find_roi(subject),
                               method=method, reference=reference)
            target = output / subject.name
            logic.exportResult(result, target, ("nrrd", "dicom-pm", "seg-nrrd"))
            logic.saveBundle(target / "scene.mrb")
            for row in result.statistics:
                line = {"subject": subject.name, **row}
                if writer is None:
                    writer = csv.DictWriter(handle, fieldnames=list(line))
                    writer.writeheader()
                writer.writerow(line)
            print(f"{subject.name}: " + ", ".join(
                f"{row['Map']} {row['Mean']:.1f} ms" for row in result.statistics))
    return summary


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("cohort", type=Path)
    parser.add_argument("output", type=Path)
    parser.add_argument("--method", default="two-point", choices=("nlls", "two-point",
                                                                  "network"))
    args = parser.parse_args(argv)
    print(f"summary: {map_cohort(args.cohort, args.output, args.method)}")
    return 0


if __name__ == "__main__":
    code = main(sys.argv[1:])
    if not hasattr(slicer, "app") or slicer.app is None:
        sys.exit(code)
    slicer.app.exit(code)
