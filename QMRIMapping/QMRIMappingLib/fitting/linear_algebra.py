"""Closed-form solves of batches of tiny symmetric systems, one per voxel.

For 2x2 and 3x3 systems, Cramer's rule over (N,) vectors is far faster than a batched
LU factorisation and exact enough in float64.
"""

from __future__ import annotations

import torch

Matrix = list[list[torch.Tensor]]


def determinant(m: Matrix) -> torch.Tensor:
    if len(m) == 2:
        return m[0][0] * m[1][1] - m[0][1] * m[1][0]
    return (m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1])
            - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
            + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]))


def solve(m: Matrix, rhs: list[torch.Tensor]) -> list[torch.Tensor]:
    """Solve m·x = rhs per voxel; singular systems give non-finite x."""
    det = determinant(m)
    det = torch.where(det != 0, det, torch.full_like(det, float("nan")))
    solution = []
    for k in range(len(m)):
        replaced = [[rhs[r] if c == k else m[r][c] for c in range(len(m))] for r in range(len(m))]
        solution.append(determinant(replaced) / det)
    return solution


def inverse_element(m: Matrix, index: int) -> torch.Tensor:
    """Diagonal element (index, index) of m⁻¹ per voxel; NaN where m is singular."""
    keep = [k for k in range(len(m)) if k != index]
    minor = [[m[r][c] for c in keep] for r in keep]
    cofactor = minor[0][0] if len(minor) == 1 else determinant(minor)
    det = determinant(m)
    scale = torch.ones_like(det)
    for k in range(len(m)):
        scale = scale * m[k][k].abs()
    well_posed = det.abs() > 1e-12 * scale
    value = cofactor / torch.where(well_posed, det, torch.ones_like(det))
    return torch.where(well_posed & (value >= 0), value, torch.full_like(value, float("nan")))
