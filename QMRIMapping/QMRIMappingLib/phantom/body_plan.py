"""The random anatomical parameters of one phantom subject and the outline they define.

A ``BodyPlan`` is drawn once per subject from the seed; ``anatomy.py`` then samples it
slice by slice. Lengths are millimetres in LPS (+x patient left, +y posterior, +z head),
angles radians measured from +x toward +y. Ranges are chosen to look like adult upper
abdomens (body about 270-320 mm wide, 210-250 mm deep), not fitted to any population.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .shapes import harmonic_factor, random_harmonics


@dataclass(frozen=True)
class BodyPlan:
    """Sizes, positions and shape harmonics of one subject's body and organs."""

    body_a: float
    body_b: float
    body_cy: float
    body_flat: float
    body_harmonics: list
    fat: float
    fat_harmonics: list
    muscle: float
    vb_depth: float
    vb_a: float
    vb_b: float
    canal_r: float
    aorta_x: float
    aorta_r: float
    ivc_x: float
    ivc_gap: float
    ivc_a: float
    ivc_b: float
    rl_a: float
    rl_b: float
    rl_dy: float
    rl_harmonics: list
    liver_z: float
    liver_h: float
    ll_x: float
    ll_depth: float
    ll_a: float
    ll_b: float
    ll_angle: float
    ll_taper: float
    ll_z: float
    ll_harmonics: list
    fissure_x: float
    spleen_theta: float
    spleen_a: float
    spleen_b: float
    spleen_z: float
    spleen_notch: float
    stomach_x: float
    stomach_y: float
    stomach_a: float
    stomach_b: float
    stomach_angle: float
    stomach_z: float
    kidney_x: tuple[float, float]
    kidney_dy: tuple[float, float]
    kidney_top: tuple[float, float]
    kidney_a: float
    kidney_b: float
    kidney_angle: tuple[float, float]
    medulla_harmonics: list
    pancreas_z: float
    bowel: list
    ribs: list
    porta: tuple[float, float, float]
    hepatic_top: float
    hepatic_gap: float


    def axes(self, z: float) -> tuple[float, float]:
        """Half-width and half-depth of the body at height ``z``: slightly wider toward
        the head over the liver's extent."""
        zc = float(np.clip(z, -60.0, 60.0))
        return self.body_a * (1.0 + 0.0015 * zc), self.body_b * (1.0 + 0.0010 * zc)

    def radius(self, theta: np.ndarray, z: float) -> np.ndarray:
        """Polar radius (mm) of the body outline about (0, body_cy): a superellipse,
        flatter at the back, with a few smooth harmonics."""
        a, b = self.axes(z)
        sin_t = np.sin(theta)
        power = 2.0 + self.body_flat * np.clip(sin_t, 0.0, None) ** 2
        c, si = np.abs(np.cos(theta)) / a, np.abs(sin_t) / b
        radius = (c ** power + si ** power) ** (-1.0 / power)
        return radius * harmonic_factor(theta, self.body_harmonics)

    def fat_thickness(self, theta: np.ndarray) -> np.ndarray:
        """Subcutaneous fat thickness (mm): thicker in front and at the flanks."""
        front = np.clip(-np.sin(theta), 0.0, None)
        return self.fat * (0.8 + 0.5 * front) * harmonic_factor(theta, self.fat_harmonics)

    def muscle_thickness(self, theta: np.ndarray) -> np.ndarray:
        """Muscle wall thickness (mm): rectus in front, thick back muscles behind."""
        sin_t = np.sin(theta)
        front = np.clip(-sin_t, 0.0, None) ** 6
        back = np.clip(sin_t, 0.0, None) ** 2
        return self.muscle * (1.0 + 0.5 * front + 1.0 * back)

    def spine_y(self, z: float) -> float:
        """y (mm) of the vertebral body centre at height ``z``."""
        back = np.array(np.pi / 2)
        return (self.body_cy + float(self.radius(back, z)) - float(self.fat_thickness(back))
                - self.vb_depth)

    def ivc_y(self, z: float) -> float:
        """y (mm) of the inferior vena cava's centre at height ``z``."""
        return self.spine_y(z) - self.vb_b - self.ivc_gap


def draw_body_plan(rng: np.random.Generator) -> BodyPlan:
    """A random subject."""
    u = rng.uniform
    left_top = u(-5.0, 20.0)
    return BodyPlan(
        body_a=u(135.0, 160.0), body_b=u(105.0, 125.0), body_cy=u(-6.0, 6.0),
        body_flat=u(0.5, 1.0), body_harmonics=random_harmonics(rng, range(2, 6), 0.035),
        fat=u(8.0, 24.0), fat_harmonics=random_harmonics(rng, range(1, 4), 0.25),
        muscle=u(7.0, 11.0),
        vb_depth=u(54.0, 62.0), vb_a=u(20.0, 24.0), vb_b=u(15.0, 18.0), canal_r=u(8.0, 10.0),
        aorta_x=u(4.0, 14.0), aorta_r=u(10.0, 13.0),
        ivc_x=-u(20.0, 28.0), ivc_gap=u(6.0, 14.0), ivc_a=u(11.0, 15.0), ivc_b=u(7.0, 10.0),
        rl_a=u(0.46, 0.56), rl_b=u(0.80, 0.95), rl_dy=u(-10.0, 5.0),
        rl_harmonics=random_harmonics(rng, range(2, 6), 0.10),
        liver_z=u(0.0, 20.0), liver_h=u(100.0, 120.0),
        ll_x=u(0.0, 20.0), ll_depth=u(0.45, 0.62), ll_a=u(55.0, 75.0), ll_b=u(22.0, 30.0),
        ll_angle=np.radians(u(5.0, 25.0)), ll_taper=u(0.4, 0.65), ll_z=u(-20.0, 0.0),
        ll_harmonics=random_harmonics(rng, range(2, 5), 0.06),
        fissure_x=u(-10.0, 5.0),
        spleen_theta=np.radians(u(15.0, 40.0)), spleen_a=u(45.0, 60.0),
        spleen_b=u(17.0, 25.0), spleen_z=u(0.0, 30.0), spleen_notch=u(25.0, 35.0),
        stomach_x=u(40.0, 60.0), stomach_y=u(0.25, 0.45), stomach_a=u(32.0, 45.0),
        stomach_b=u(22.0, 32.0), stomach_angle=np.radians(u(-30.0, 10.0)),
        stomach_z=u(10.0, 40.0),
        kidney_x=(-u(55.0, 68.0), u(55.0, 68.0)), kidney_dy=(u(4.0, 14.0), u(0.0, 10.0)),
        kidney_top=(left_top - u(10.0, 20.0), left_top),
        kidney_a=u(27.0, 33.0), kidney_b=u(18.0, 22.0),
        kidney_angle=(np.radians(u(35.0, 55.0)), np.radians(-u(35.0, 55.0))),
        medulla_harmonics=random_harmonics(rng, range(5, 8), 0.35),
        pancreas_z=u(-45.0, -25.0),
        bowel=[(u(0.0, 110.0), u(0.1, 0.95), u(-0.6, 0.6), u(-0.6, 0.6), u(11.0, 22.0))
               for _ in range(int(rng.integers(7, 12)))],
        ribs=[(_mirror(np.radians(u(a - 8.0, a + 8.0)), side), u(6.0, 8.0), u(3.5, 4.5))
              for side in (-1.0, 1.0) for a in (-70.0, -40.0, -10.0, 25.0)],
        porta=(u(-32.0, -18.0), u(18.0, 28.0), u(-6.0, 6.0)),
        hepatic_top=u(14.0, 24.0), hepatic_gap=u(6.0, 12.0),
    )



def _mirror(angle: float, side: float) -> float:
    """A polar angle on the patient's left (side +1) or mirrored to the right (side -1)."""
    return angle if side > 0 else np.pi - angle
