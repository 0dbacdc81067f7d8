"""The class palette stays readable for colour-blind readers (issue 21: gigabit vs white fell
from delta E 113.7 to 26 under deuteranopia). Simulation: Machado, Oliveira and Fernandes
(2009), severity 1.0, on linear sRGB; distance: CIE76 delta E in CIELAB (D65)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from maps.layers import CLASS_COLOURS

MACHADO = {
    "deuteranopia": [[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413],
                     [-0.011820, 0.042940, 0.968881]],
    "protanopia": [[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216],
                   [-0.003882, -0.048116, 1.051998]],
}  # fmt: skip


def _lab(colour: str, vision: str | None) -> np.ndarray:
    rgb = np.array([int(colour[i : i + 2], 16) for i in (1, 3, 5)]) / 255
    lin = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    if vision:
        lin = np.clip(np.array(MACHADO[vision]) @ lin, 0, 1)
    xyz = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722],
                    [0.0193, 0.1192, 0.9505]]) @ lin  # fmt: skip
    t = xyz / np.array([0.95047, 1.0, 1.08883])
    f = np.where(t > 0.008856, np.cbrt(t), 7.787 * t + 16 / 116)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def min_delta_e(colours: list[str], vision: str | None) -> float:
    labs = [_lab(c, vision) for c in colours]
    return min(float(np.linalg.norm(a - b)) for a, b in itertools.combinations(labs, 2))


@pytest.mark.parametrize("vision", [None, "deuteranopia", "protanopia"])
def test_gigabit_black_grey_white_stay_apart(vision: str | None) -> None:
    colours = [CLASS_COLOURS[c] for c in ("gigabit", "black", "grey", "white")]
    assert min_delta_e(colours, vision) >= 30


def test_the_old_palette_fails_the_same_check() -> None:
    old = ["#1a9850", "#4d4d4d", "#fdae61", "#d73027"]
    assert min_delta_e(old, "protanopia") < 30  # the check can fail
