"""Metrics of one model on the test slices, task by task (metrics from MultiTaskLib).

* denoise: each test slice corrupted once with Gaussian noise of σ =
  ``NoiseModel.evaluation_sigma`` (seeded), PSNR and SSIM of the output against the clean
  slice (data range 1, the normalised intensity scale), next to those of the noisy input;
* segmentation: Dice and IoU over all test pixels (global), and the mean per-slice Dice
  over slices whose reference mask is not empty;
* classification: accuracy, macro F1 and MCC over the labelled test slices, the
  confusion matrix, and which slices were right (for McNemar's test between models).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from MultiTaskLib import metrics as mt

from ..data.datasets import ClassificationDataset, DenoiseDataset
from ..data.slices import SliceSet
from ..networks import UMSRepModel
from ..noise import NoiseModel

DATA_RANGE = 1.0


def evaluate_model(model: UMSRepModel, test: SliceSet, noise: NoiseModel,
                   tasks: list[str] | None = None, seed: int = 0, batch_size: int = 32
                   ) -> dict[str, dict[str, Any]]:
    """``{task: metrics}`` for the model's heads that the test data has targets for."""
    model.eval()
    names = [t for t in (tasks or list(model.heads)) if t in model.heads]
    results: dict[str, dict[str, Any]] = {}
    for name in names:
        spec = model.tasks[name]
        if spec.kind == "denoise":
            results[name] = _denoise(model, name, test, noise, seed, batch_size)
        elif spec.kind == "segmentation" and name in test.masks:
            results[name] = _segmentation(model, name, test, batch_size)
        elif spec.kind == "classification" and name in test.labels:
            results[name] = _classification(model, name, test, batch_size)
    return results


def _predict(model: UMSRepModel, task: str, images: np.ndarray, batch_size: int) -> np.ndarray:
    outputs = []
    with torch.no_grad():
        for start in range(0, len(images), batch_size):
            chunk = np.ascontiguousarray(images[start:start + batch_size], dtype=np.float32)
            outputs.append(model(torch.from_numpy(chunk[:, None]), task=task).cpu().numpy())
    return np.concatenate(outputs) if outputs else np.zeros((0,))


def _denoise(model, task, test: SliceSet, noise: NoiseModel, seed: int, batch_size: int) -> dict:
    dataset = DenoiseDataset(test, noise, fixed_seed=seed, evaluation=True)
    noisy = np.stack([dataset[i][0][0].numpy() for i in range(len(dataset))])
    clean = test.images
    output = _predict(model, task, noisy, batch_size)[:, 0]
    psnr = [mt.psnr(o, c, data_range=DATA_RANGE) for o, c in zip(output, clean, strict=True)]
    ssim = [mt.ssim(o, c, data_range=DATA_RANGE) for o, c in zip(output, clean, strict=True)]
    psnr_in = [mt.psnr(n, c, data_range=DATA_RANGE) for n, c in zip(noisy, clean, strict=True)]
    ssim_in = [mt.ssim(n, c, data_range=DATA_RANGE) for n, c in zip(noisy, clean, strict=True)]
    return {"kind": "denoise", "slices": len(clean), "sigma": noise.evaluation_sigma,
            "psnr": float(np.mean(psnr)), "ssim": float(np.mean(ssim)),
            "psnr_noisy_input": float(np.mean(psnr_in)),
            "ssim_noisy_input": float(np.mean(ssim_in))}


def _segmentation(model, task, test: SliceSet, batch_size: int) -> dict:
    logits = _predict(model, task, test.images, batch_size)[:, 0]
    predicted = logits > 0
    target = test.masks[task] > 0
    rows = [i for i, t in enumerate(target) if t.any()]
    per_slice = [float(mt.dice(predicted[i], target[i])) for i in rows]
    return {"kind": "segmentation", "slices": len(target),
            "dice": mt.dice(predicted, target), "iou": mt.iou(predicted, target),
            "mean_slice_dice": float(np.mean(per_slice)) if per_slice else float("nan"),
            "slice_rows": rows, "slice_dice": per_slice}


def _classification(model, task, test: SliceSet, batch_size: int) -> dict:
    spec = model.tasks[task]
    dataset = ClassificationDataset(test, spec)
    rows = dataset.indices
    if rows.size == 0:
        return {"kind": "classification", "slices": 0}
    logits = _predict(model, task, test.images[rows], batch_size)
    predicted = logits.argmax(1)
    target = test.labels[task][rows]
    k = spec.num_classes
    return {"kind": "classification", "slices": int(rows.size), "classes": list(spec.classes),
            "accuracy": mt.accuracy(predicted, target), "f1": mt.f1(predicted, target, k),
            "mcc": mt.mcc(predicted, target, k),
            "confusion": mt.confusion_matrix(predicted, target, k).tolist(),
            "rows": rows.tolist(), "correct": (predicted == target).astype(int).tolist()}
