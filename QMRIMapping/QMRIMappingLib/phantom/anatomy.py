"""An axial slab of the upper abdomen at liver level, as a label map.

A subject's ``BodyPlan`` (drawn from the seed) is sampled slice by slice in millimetres,
so organs change smoothly with height: the left lobe, stomach and spleen grow toward
the head, the kidneys, pancreas, psoas and bowel loops toward the feet. Coordinates
are LPS with the patient head-first supine: +x patient left (image right), +y
posterior (image bottom).

Layers are built from the body outline inward: subcutaneous fat, the muscle wall, then
the visceral cavity (visceral fat) that holds the organs. Organs are clipped to the
cavity, so the liver and spleen follow the body wall as they do in a real scan, and are
painted back to front in the order organs overlap: bowel, stomach, liver, pancreas,
spleen, kidneys, great vessels, spine; the vessel trees last, only inside the liver.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from .body_plan import BodyPlan, draw_body_plan
from .grid import PhantomGrid
from .shapes import capsule, ellipse, profile, smooth_union, tapered_ellipse
from .tissues import LABEL_IDS
from .vessels import Segment, companion_ducts, grow_tree, paint_segments

L = LABEL_IDS


@dataclass
class Anatomy:
    """Label map of a subject plus what later steps need to know about it."""

    labels: np.ndarray       # uint8 [z, y, x]
    right_lobe: np.ndarray   # bool [z, y, x]: liver voxels of the right lobe
    body_centre_mm: tuple[float, float]
    vessel_segments: list[Segment]


def build_anatomy(grid: PhantomGrid, rng: np.random.Generator) -> Anatomy:
    """Draw a subject from ``rng`` and sample its label map on ``grid``."""
    plan = draw_body_plan(rng)
    labels = np.zeros(grid.shape, dtype=np.uint8)
    right_lobe = np.zeros(grid.shape, dtype=bool)
    x, y = grid.plane()
    for k, z in enumerate(grid.z_mm):
        canvas = _Canvas(plan, x, y, float(z), grid.pixel_mm)
        _bowel_and_stomach(canvas)
        right_lobe[k] = _liver(canvas)
        _pancreas_and_spleen(canvas)
        _kidneys_and_psoas(canvas)
        _great_vessels_and_spine(canvas)
        _ribs(canvas)
        labels[k] = canvas.lab

    segments = _vessel_trees(plan, rng)
    for name in ("hepatic_vein", "portal_vein", "bile_duct"):
        paint_segments(labels, grid, [seg for kind, seg in segments if kind == name],
                       L[name], inside=L["liver"])
    right_lobe &= labels == L["liver"]
    return Anatomy(labels=labels, right_lobe=right_lobe, body_centre_mm=(0.0, plan.body_cy),
                   vessel_segments=[seg for _, seg in segments])


class _Canvas:
    """One axial plane being painted: coordinates, body layers and landmarks."""

    def __init__(self, plan: BodyPlan, x: np.ndarray, y: np.ndarray, z: float,
                 pixel_mm: float) -> None:
        self.plan, self.x, self.y, self.z = plan, x, y, z
        cy = plan.body_cy
        theta = np.arctan2(y - cy, x)
        self.body = np.hypot(x, y - cy) < plan.radius(theta, z)
        self.depth = ndimage.distance_transform_edt(self.body, sampling=(pixel_mm, pixel_mm))
        self.fat_t = plan.fat_thickness(theta)
        self.cavity = self.body & (self.depth >= self.fat_t + plan.muscle_thickness(theta))
        self.lab = np.zeros(x.shape, dtype=np.uint8)
        self.lab[self.body] = L["subcutaneous_fat"]
        self.lab[self.body & (self.depth >= self.fat_t)] = L["abdominal_wall_muscle"]
        self.lab[self.cavity] = L["visceral_fat"]
        # Landmarks: cavity half-width, anterior cavity wall, spine, posterior fat.
        self.b = plan.axes(z)[1]
        self.half_width = float(plan.radius(np.array(0.0), z)) - plan.fat - plan.muscle
        self.y_anterior = cy - float(plan.radius(np.array(-np.pi / 2), z)) + 1.3 * plan.fat
        self.y_spine = plan.spine_y(z)
        back = np.array(np.pi / 2)
        self.y_back_fat = cy + float(plan.radius(back, z)) - float(plan.fat_thickness(back))

    def paint(self, mask: np.ndarray, name: str, where: str = "cavity") -> None:
        """Label ``mask`` as ``name`` within the cavity, or the whole body."""
        self.lab[mask & (self.cavity if where == "cavity" else self.body)] = L[name]


def _bowel_and_stomach(c: _Canvas) -> None:
    p, x, y, z = c.plan, c.x, c.y, c.z
    # Bowel loops drift through the slab; organs painted later cover them.
    for bx, by, vx, vy, br in p.bowel:
        centre_y = c.y_anterior + 20.0 + by * (c.y_spine - c.y_anterior - 30.0)
        c.paint(ellipse(x, y, bx + vx * z, centre_y + vy * z, br, br * 0.8) < 0, "bowel")
    # Stomach: left upper quadrant, larger toward the head.
    st = profile(z, p.stomach_z, 70.0)
    if st > 0.15:
        c.paint(ellipse(x, y, p.stomach_x, p.body_cy - p.stomach_y * c.b, p.stomach_a * st,
                        p.stomach_b * st, p.stomach_angle) < 0, "stomach")


def _liver(c: _Canvas) -> np.ndarray:
    """Paint the liver; return its right-lobe part (before vessels are cut out).

    The right lobe lies against the right wall, the left lobe (a tapered wedge) crosses
    the midline anteriorly, and a smooth union joins them. The liver tapers off toward
    its dome and its tip, which only tall slabs reach.
    """
    p, x, y, z = c.plan, c.x, c.y, c.z
    rl = profile(z, p.liver_z, p.liver_h)
    d_right = np.full(x.shape, 1e3)
    if rl > 0.12:
        rl_a = p.rl_a * c.half_width * np.sqrt(rl)
        rl_b = p.rl_b * (c.b - p.fat) * rl
        d_right = ellipse(x, y, -c.half_width + 0.8 * rl_a, p.body_cy + p.rl_dy, rl_a, rl_b,
                          0.0, p.rl_harmonics)
    d_liver = d_right
    ll = float(np.clip(1.0 + (z - p.ll_z) / 45.0, 0.0, min(1.25, 1.25 * rl)))
    if ll > 0.2:
        ll_cy = c.y_anterior + p.ll_depth * p.ll_b * 2.0
        d_left = tapered_ellipse(x, y, p.ll_x, ll_cy, p.ll_a * ll, p.ll_b * min(ll, 1.0),
                                 p.ll_angle, p.ll_taper, p.ll_harmonics)
        d_liver = smooth_union(d_right, d_left, 15.0)
    liver = d_liver < 0
    c.paint(liver, "liver")
    # Falciform ligament: a thin fat cleft from the front between the lobes.
    fissure = capsule(x, y, np.array([[p.fissure_x, c.y_anterior - 5.0],
                                      [p.fissure_x + 4.0, c.y_anterior + 22.0]]), 2.0) < 0
    c.paint(fissure & liver, "visceral_fat")
    return (c.lab == L["liver"]) & (x < p.porta[0] + 5.0) & (d_right < 5.0)


def _pancreas_and_spleen(c: _Canvas) -> None:
    p, x, y, z = c.plan, c.x, c.y, c.z
    # Pancreas toward the feet, across the front of the aorta to the splenic hilum.
    pa = profile(z, p.pancreas_z, 30.0)
    if pa > 0.2:
        ys = c.y_spine
        points = np.array([[p.ivc_x + 8.0, ys - 48.0], [15.0, ys - 42.0],
                           [55.0, ys - 28.0], [80.0, ys - 12.0]])
        c.paint(capsule(x, y, points, 10.0 * pa) < 0, "pancreas")
    # Spleen: posterolateral left, convex against the wall, concave hilum.
    sp = profile(z, p.spleen_z, 65.0)
    if sp > 0.15:
        th = p.spleen_theta
        wall = float(p.radius(np.array(th), z)) - p.fat - p.muscle
        half = p.spleen_b * sp
        reach = wall - half + 4.0
        cx, cy = reach * np.cos(th), p.body_cy + reach * np.sin(th)
        d_spleen = ellipse(x, y, cx, cy, p.spleen_a * sp, half * 1.2, th + np.pi / 2)
        inward = half + 0.6 * p.spleen_notch
        hilum = ellipse(x, y, cx - inward * np.cos(th), cy - inward * np.sin(th),
                        p.spleen_notch, p.spleen_notch)
        c.paint((d_spleen < 0) & (hilum > 0), "spleen")


def _kidneys_and_psoas(c: _Canvas) -> None:
    """Kidneys (cortex, medulla, hilum, perirenal fat), the right one lower; psoas."""
    p, x, y, z = c.plan, c.x, c.y, c.z
    for i in range(2):
        kp = profile(z, p.kidney_top[i] - 55.0, 55.0)
        if kp < 0.2:
            continue
        kx, ky = p.kidney_x[i], c.y_spine + p.kidney_dy[i]
        ka, kb = p.kidney_a * kp, p.kidney_b * max(kp, 0.6)
        d_kidney = ellipse(x, y, kx, ky, ka, kb, p.kidney_angle[i])
        medial = -np.sign(kx)
        hilum = ellipse(x, y, kx + medial * 0.7 * kb, ky - 0.7 * kb, 0.55 * kb, 0.55 * kb)
        kidney = (d_kidney < 0) & (hilum > 0)
        c.paint(d_kidney < 5.0, "visceral_fat")
        c.paint(kidney, "kidney_cortex")
        d_medulla = ellipse(x, y, kx, ky, 0.62 * ka, 0.55 * kb, p.kidney_angle[i],
                            p.medulla_harmonics)
        c.paint(kidney & (d_medulla < 0) & (hilum > 3.0), "kidney_medulla")
    ps = float(np.clip(0.55 - z / 50.0, 0.0, 1.0))
    if ps > 0.2:
        for side in (-1.0, 1.0):
            c.paint(ellipse(x, y, side * (p.vb_a + 4.0 + 9.0 * ps), c.y_spine - 2.0,
                            5.0 + 10.0 * ps, 6.0 + 10.0 * ps) < 0, "psoas_muscle")


def _great_vessels_and_spine(c: _Canvas) -> None:
    """Aorta left-anterior of the spine, IVC right-anterior behind the liver; vertebra,
    canal, arch and spinous process; paraspinal muscles."""
    p, x, y, z = c.plan, c.x, c.y, c.z
    ys = c.y_spine
    c.paint(ellipse(x, y, p.aorta_x, ys - p.vb_b - p.aorta_r - 3.0, p.aorta_r,
                    p.aorta_r) < 0, "aorta", where="body")
    c.paint(ellipse(x, y, p.ivc_x, p.ivc_y(z), p.ivc_a, p.ivc_b, np.radians(30.0)) < 0,
            "inferior_vena_cava", where="body")
    canal_y = ys + p.vb_b + p.canal_r + 3.0
    below_fat = c.depth >= c.fat_t
    for side in (-1.0, 1.0):
        paraspinal = ellipse(x, y, side * (p.canal_r + 20.0),
                             (canal_y + c.y_back_fat) / 2.0 + 2.0, 24.0,
                             (c.y_back_fat - canal_y) / 2.0 + 4.0, side * 0.25) < 0
        c.paint(paraspinal & below_fat, "paraspinal_muscle", where="body")
    arch = ellipse(x, y, 0.0, canal_y, p.canal_r + 5.0, p.canal_r + 6.0) < 0
    spinous = capsule(x, y, np.array([[0.0, canal_y], [0.0, canal_y + 32.0]]), 3.5) < 0
    transverse = capsule(x, y, np.array([[-p.canal_r - 14.0, canal_y - 4.0],
                                         [p.canal_r + 14.0, canal_y - 4.0]]), 3.0) < 0
    c.paint(arch | spinous | transverse, "vertebra", where="body")
    c.paint(ellipse(x, y, 0.0, ys, p.vb_a, p.vb_b) < 0, "vertebra", where="body")
    c.paint(ellipse(x, y, 0.0, canal_y, p.canal_r, p.canal_r * 0.9) < 0, "spinal_canal",
            where="body")


def _ribs(c: _Canvas) -> None:
    """Rib cross-sections in the muscle wall, sliding slightly along it with height."""
    p, z = c.plan, c.z
    for angle, ra, rb in p.ribs:
        th = angle + np.sign(np.cos(angle)) * 0.004 * z
        inset = float(p.radius(np.array(th), z)) - float(p.fat_thickness(np.array(th))) \
            - 0.5 * p.muscle
        rx, ry = inset * np.cos(th), p.body_cy + inset * np.sin(th)
        c.paint(ellipse(c.x, c.y, rx, ry, ra, rb, th + np.pi / 2) < 0, "rib", where="body")


def _vessel_trees(p: BodyPlan, rng: np.random.Generator) -> list[tuple[str, Segment]]:
    """Hepatic veins from the IVC, portal veins from the porta hepatis, ducts beside them,
    and small head-to-foot veins that cut the slices as dark dots."""
    u = rng.uniform
    porta = np.array([p.porta[0], p.ivc_y(p.porta[2]) - p.porta[1], p.porta[2]])
    out: list[tuple[str, Segment]] = []
    ivc = np.array([p.ivc_x + 4.0, p.ivc_y(p.hepatic_top) - p.hepatic_gap, p.hepatic_top])
    for azimuth in (np.radians(u(-170.0, -150.0)), np.radians(u(-125.0, -100.0)),
                    np.radians(u(-75.0, -55.0))):
        tree = grow_tree(rng, ivc, azimuth, -u(0.18, 0.32), u(38.0, 48.0), u(4.5, 6.0), 3)
        out += [("hepatic_vein", seg) for seg in tree]
    right = grow_tree(rng, porta, np.radians(u(170.0, 195.0)), u(-0.12, 0.12),
                      u(32.0, 40.0), u(5.5, 7.0), 3)
    left = grow_tree(rng, porta + np.array([4.0, -6.0, 0.0]), np.radians(-u(50.0, 75.0)),
                     u(-0.12, 0.12), u(30.0, 38.0), u(4.5, 5.5), 3)
    for tree in (right, left):
        out += [("portal_vein", seg) for seg in tree]
        out += [("bile_duct", seg) for seg in companion_ducts(tree, max_generation=2)]
    for _ in range(int(rng.integers(8, 16))):
        start = np.array([u(-125.0, 10.0), p.body_cy + u(-70.0, 60.0), -60.0])
        end = start + np.array([u(-15.0, 15.0), u(-15.0, 15.0), 120.0])
        out.append(("hepatic_vein", Segment(tuple(start), tuple(end), u(1.8, 3.2), 3)))
    return out
