"""Run a bundle's heads on a whole image volume and put every output back on its grid.

This is what ``umsrep predict`` and the Slicer module do with one volume: prepare the
axial slices (:func:`.data.volume.prepare_volume`), run the segmentation head (liver
probability and mask), the classification heads (per-slice softmax, averaged over the
slices weighted by their segmented liver area, since quality matters where the liver
is), Grad-CAM of one classification head, optionally the denoising head; derive the
mapping ROI (:mod:`.roi`) and the suitability recommendation (:mod:`.recommendation`).
Every voxel array returned is on the input's own ``[k, j, i]`` grid.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from .data.volume import prepare_volume
from .gradcam import grad_cam
from .model_files import ModelBundle
from .recommendation import Recommendation, RecommendationRules, recommend
from .roi import roi_from_liver

LIVER_TASK = "liver"
QUALITY_TASK = "quality"


@dataclass
class VolumeAnalysis:
    """Outputs on the input grid (``[k, j, i]``) and the volume-level decisions."""

    liver_probability: np.ndarray | None
    liver_mask: np.ndarray | None
    roi_mask: np.ndarray | None
    class_probabilities: dict[str, dict[str, float]]
    slice_probabilities: dict[str, np.ndarray]
    heatmap: np.ndarray | None
    heatmap_task: str | None
    heatmap_class: str | None
    denoised: np.ndarray | None
    recommendation: Recommendation
    pixel_area_mm2: float
    notes: list[str] = field(default_factory=list)

    def summary(self) -> dict:
        """Plain-data summary (JSON) without the voxel arrays."""
        return {
            "class_probabilities": self.class_probabilities,
            "liver_voxels": int(self.liver_mask.sum()) if self.liver_mask is not None else None,
            "roi_voxels": int(self.roi_mask.sum()) if self.roi_mask is not None else None,
            "heatmap": {"task": self.heatmap_task, "class": self.heatmap_class},
            "recommendation": self.recommendation.to_dict(),
            "pixel_area_mm2": self.pixel_area_mm2,
            "notes": list(self.notes),
        }


def analyse_volume(bundle: ModelBundle, array: np.ndarray,
                   spacing_xyz: tuple[float, float, float] | None = None,
                   direction: np.ndarray | None = None, *,
                   liver_task: str = LIVER_TASK, quality_task: str = QUALITY_TASK,
                   heatmap_task: str | None = None, denoise: bool = False,
                   rules: RecommendationRules | None = None, batch_size: int = 16
                   ) -> VolumeAnalysis:
    """Analyse a ``[k, j, i]`` volume (or a 2-D ``[j, i]`` image) with ``bundle``.

    ``spacing_xyz``/``direction``: the grid (mm, LPS); None for images without geometry
    (PNG), which are then assumed to span the model's field of view.
    """
    spec, model = bundle.spec, bundle.model.eval()
    data = np.asarray(array, dtype=np.float32)
    if data.ndim == 2:
        data = data[np.newaxis]
    prepared = prepare_volume(data, spacing_xyz, direction, spec.image_size,
                              spec.field_of_view_mm)
    device = next(model.parameters()).device
    inputs = torch.from_numpy(prepared.slices[:, None]).to(device)
    notes: list[str] = []
    outputs = _run_heads(model, inputs, batch_size)

    liver_probability = liver_mask = roi_mask = None
    weights = np.ones(len(prepared.slices))
    if liver_task in outputs:
        model_probs = torch.sigmoid(outputs[liver_task][:, 0]).cpu().numpy()
        weights = (model_probs > 0.5).sum(axis=(1, 2)).astype(np.float64)
        liver_probability = prepared.restore(model_probs)
        liver_mask = liver_probability > 0.5
    else:
        notes.append(f"the model has no {liver_task!r} segmentation head")
    if not weights.sum() > 0:
        weights = np.ones(len(prepared.slices))

    class_probs, slice_probs = {}, {}
    for task, logits in outputs.items():
        spec_t = bundle.model.tasks[task]
        if spec_t.kind != "classification":
            continue
        probs = torch.softmax(logits, dim=1).cpu().numpy()
        slice_probs[task] = probs
        mean = (probs * weights[:, None]).sum(0) / weights.sum()
        class_probs[task] = {c: float(p) for c, p in zip(spec_t.classes, mean, strict=True)}

    heatmap = heat_class = None
    cls_tasks = [t for t in model.heads if model.tasks[t].kind == "classification"]
    heatmap_task = heatmap_task or (quality_task if quality_task in cls_tasks else
                                    (cls_tasks[0] if cls_tasks else None))
    if heatmap_task is not None:
        spec_h = model.tasks[heatmap_task]
        chosen = int(np.argmax(list(class_probs[heatmap_task].values())))
        maps = []
        for start in range(0, len(inputs), batch_size):
            cam, _ = grad_cam(model, inputs[start:start + batch_size], heatmap_task, chosen)
            maps.append(cam.cpu().numpy())
        heatmap = prepared.restore(np.concatenate(maps))
        heat_class = spec_h.classes[chosen]

    denoised = None
    if denoise and "denoise" in outputs:
        model_images = outputs["denoise"][:, 0].cpu().numpy() * prepared.intensity_scale
        denoised = prepared.restore(model_images)

    canonical_spacing = _canonical_spacing(prepared, spacing_xyz, data.shape,
                                           spec.field_of_view_mm)
    pixel_area = float(canonical_spacing[0] * canonical_spacing[1])
    if liver_mask is not None:
        image = prepared.canonical(data) / prepared.intensity_scale
        roi_canonical = roi_from_liver(prepared.canonical(liver_mask), image, canonical_spacing)
        roi_mask = np.ascontiguousarray(prepared.reorientation.invert(roi_canonical))
    quality = class_probs.get(quality_task)
    decision = recommend(quality, int(liver_mask.sum()) if liver_mask is not None else 0,
                         int(roi_mask.sum()) if roi_mask is not None else 0, pixel_area, rules)
    return VolumeAnalysis(liver_probability=liver_probability, liver_mask=liver_mask,
                          roi_mask=roi_mask, class_probabilities=class_probs,
                          slice_probabilities=slice_probs, heatmap=heatmap,
                          heatmap_task=heatmap_task, heatmap_class=heat_class,
                          denoised=denoised, recommendation=decision,
                          pixel_area_mm2=pixel_area, notes=notes)


def _run_heads(model, inputs: torch.Tensor, batch_size: int) -> dict[str, torch.Tensor]:
    outputs: dict[str, list[torch.Tensor]] = {task: [] for task in model.heads}
    with torch.no_grad():
        for start in range(0, len(inputs), batch_size):
            batch = inputs[start:start + batch_size]
            features = model.encoder(batch)
            for task, head in model.heads.items():
                outputs[task].append(head(features))
    return {task: torch.cat(values) for task, values in outputs.items()}


def _canonical_spacing(prepared, spacing_xyz, shape: tuple[int, ...],
                       field_of_view_mm: float | None) -> tuple[float, float, float]:
    """Voxel spacing (x, y, z) in canonical orientation; without geometry (PNG) the
    model's field of view is assumed to span the image's longer side."""
    if spacing_xyz is not None:
        return prepared.reorientation.spacing(tuple(spacing_xyz))
    side = field_of_view_mm / max(shape[1:]) if field_of_view_mm else 1.0
    return (side, side, 1.0)
