"""Deterministic synthetic addresses and coverage polygons for the kernel benchmarks.

EPSG:25832 over a 120 km x 110 km area like Suedwestfalen (x 390000-510000,
y 5620000-5730000). Addresses cluster in towns, villages and hamlets, plus scattered farms.
Polygons are village footprints, town areas, rings with holes, multipolygons, wedge-shaped
radio sectors and a few huge regional polygons, all overlapping, with 20-500 vertices each.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely

X_MIN, X_MAX = 390_000.0, 510_000.0
Y_MIN, Y_MAX = 5_620_000.0, 5_730_000.0
CRS = "EPSG:25832"
SPEEDS = np.array([6.0, 16.0, 30.0, 50.0, 100.0, 175.0, 250.0, 500.0, 1000.0])


def make_dataset(
    n_addresses: int, n_polygons: int, seed: int = 1
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(x, y, polygons, down_mbps): addresses in file order (not spatially sorted)."""
    rng = np.random.default_rng(seed)
    centres, radii, weights = _settlements(rng)
    x, y = make_addresses(n_addresses, rng, centres, radii, weights)
    polys = make_polygons(n_polygons, rng, centres, radii)
    down = rng.choice(SPEEDS, len(polys))
    return x, y, polys, down


def _settlements(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Centres (n, 2), radii (m) and address weights of towns, villages and hamlets."""
    n_towns, n_villages, n_hamlets = 30, 700, 3500
    n = n_towns + n_villages + n_hamlets
    centres = np.column_stack(
        [rng.uniform(X_MIN + 3000, X_MAX - 3000, n), rng.uniform(Y_MIN + 3000, Y_MAX - 3000, n)]
    )
    radii = np.concatenate(
        [
            rng.uniform(1500, 4000, n_towns),
            rng.uniform(250, 700, n_villages),
            rng.uniform(50, 150, n_hamlets),
        ]
    )
    # share of all clustered addresses: towns 45 %, villages 40 %, hamlets 15 %
    weights = np.concatenate(
        [
            0.45 * rng.dirichlet(np.ones(n_towns)),
            0.40 * rng.dirichlet(np.ones(n_villages)),
            0.15 * rng.dirichlet(np.ones(n_hamlets)),
        ]
    )
    return centres, radii, weights


def make_addresses(
    n: int, rng: np.random.Generator, centres: np.ndarray, radii: np.ndarray, weights: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Clustered address points (92 %) plus scattered farms and houses (8 %)."""
    n_scattered = int(0.08 * n)
    counts = rng.multinomial(n - n_scattered, weights)
    which = np.repeat(np.arange(len(centres)), counts)
    # Gaussian around the settlement centre, sigma = half the radius
    x = centres[which, 0] + rng.normal(0, 1, len(which)) * radii[which] / 2
    y = centres[which, 1] + rng.normal(0, 1, len(which)) * radii[which] / 2
    x = np.concatenate([x, rng.uniform(X_MIN, X_MAX, n_scattered)])
    y = np.concatenate([y, rng.uniform(Y_MIN, Y_MAX, n_scattered)])
    order = rng.permutation(n)  # addresses files are not spatially sorted
    return np.clip(x[order], X_MIN, X_MAX), np.clip(y[order], Y_MIN, Y_MAX)


def _stars(
    rng: np.random.Generator,
    centres: np.ndarray,
    radii: np.ndarray,
    n_vertices: np.ndarray,
    roughness: float = 0.25,
) -> np.ndarray:
    """Star-shaped (hence simple and valid) polygons with irregular outlines."""
    k = len(centres)
    total = int(n_vertices.sum())
    poly = np.repeat(np.arange(k), n_vertices)
    start = np.repeat(np.cumsum(n_vertices) - n_vertices, n_vertices)
    j = np.arange(total) - start
    angle = 2 * np.pi * (j + rng.uniform(0.1, 0.9, total)) / n_vertices[poly]
    # smooth-ish radius noise: sum of a few random harmonics per polygon
    wobble = np.zeros(total)
    for h in (2, 3, 5, 9):
        amp = rng.uniform(0, roughness / h**0.5, k)[poly]
        phase = rng.uniform(0, 2 * np.pi, k)[poly]
        wobble += amp * np.sin(h * angle + phase)
    wobble += rng.normal(0, roughness / 6, total)
    r = radii[poly] * np.exp(np.clip(wobble, -1.2, 1.2))
    coords = np.column_stack(
        [centres[poly, 0] + r * np.cos(angle), centres[poly, 1] + r * np.sin(angle)]
    )
    rings = shapely.linearrings(coords, indices=poly)
    return shapely.polygons(rings)


def _wedges(
    rng: np.random.Generator, centres: np.ndarray, radii: np.ndarray, n_vertices: np.ndarray
) -> np.ndarray:
    """Radio sectors (fixed wireless / mobile cells): a mast plus an arc."""
    k = len(centres)
    arc_n = n_vertices - 1
    total = int(arc_n.sum())
    poly = np.repeat(np.arange(k), arc_n)
    start = np.repeat(np.cumsum(arc_n) - arc_n, arc_n)
    t = (np.arange(total) - start) / np.maximum(arc_n[poly] - 1, 1)
    width = rng.uniform(0.6, 2.2, k)
    heading = rng.uniform(0, 2 * np.pi, k)
    angle = heading[poly] - width[poly] / 2 + t * width[poly]
    r = radii[poly] * (1 + rng.normal(0, 0.05, total))
    arc = np.column_stack(
        [centres[poly, 0] + r * np.cos(angle), centres[poly, 1] + r * np.sin(angle)]
    )
    # insert the mast as the first vertex of each ring
    coords = np.concatenate([centres, arc])
    ids = np.concatenate([np.arange(k), poly])
    order = np.argsort(ids, kind="stable")
    return shapely.polygons(shapely.linearrings(coords[order], indices=ids[order]))


def make_polygons(
    m: int,
    rng: np.random.Generator,
    centres: np.ndarray,
    radii: np.ndarray,
) -> np.ndarray:
    """A realistic mix of ``m`` valid coverage polygons (see module docstring)."""
    n_huge = min(8, max(2, m // 2500))
    n_multi = int(0.08 * m)
    n_ring = int(0.08 * m)
    n_wedge = int(0.08 * m)
    n_town = int(0.08 * m)
    n_village = m - n_huge - n_multi - n_ring - n_wedge - n_town
    n_towns = 30
    out = []

    # village/hamlet footprints near settlements (FTTH / cable build areas)
    s = rng.integers(n_towns, len(centres), n_village)
    jitter = rng.normal(0, 1, (n_village, 2)) * radii[s, None] * 0.5
    out.append(
        _stars(
            rng,
            centres[s] + jitter,
            radii[s] * rng.uniform(0.6, 1.8, n_village),
            rng.integers(20, 121, n_village),
        )
    )
    # mid-size town polygons: districts of a town, each operator covering some of them
    s = rng.integers(0, n_towns, n_town)
    jitter = rng.normal(0, 1, (n_town, 2)) * radii[s, None] * 0.7
    out.append(
        _stars(
            rng, centres[s] + jitter, rng.uniform(300, 2500, n_town), rng.integers(100, 501, n_town)
        )
    )
    # rings (annuli): coverage around a town but not in its centre
    s = rng.integers(0, len(centres), n_ring)
    outer_r = np.where(s < n_towns, rng.uniform(2000, 6000, n_ring), rng.uniform(400, 1500, n_ring))
    nv = rng.integers(40, 301, n_ring)
    outer = _stars(rng, centres[s], outer_r, nv, roughness=0.08)
    inner = _stars(
        rng, centres[s], outer_r * rng.uniform(0.25, 0.55, n_ring), nv // 2, roughness=0.08
    )
    out.append(shapely.difference(outer, inner))
    # multipolygons: 2-4 disjoint blobs along a line
    parts = rng.integers(2, 5, n_multi)
    owner = np.repeat(np.arange(n_multi), parts)
    base = centres[rng.integers(0, len(centres), n_multi)]
    r = rng.uniform(150, 900, n_multi)[owner]
    step = np.repeat(rng.uniform(0, 2 * np.pi, n_multi), parts)
    k = np.arange(len(owner)) - np.repeat(np.cumsum(parts) - parts, parts)
    # blobs 3.5 radii apart cannot touch (star radius <= r * e^0.3 here)
    pc = base[owner] + (k * 3.5 * r)[:, None] * np.column_stack([np.cos(step), np.sin(step)])
    blobs = _stars(rng, pc, r, rng.integers(20, 121, len(owner)), roughness=0.08)
    out.append(shapely.multipolygons(blobs, indices=owner))
    # radio sectors anywhere
    c = np.column_stack([rng.uniform(X_MIN, X_MAX, n_wedge), rng.uniform(Y_MIN, Y_MAX, n_wedge)])
    out.append(_wedges(rng, c, rng.uniform(1000, 8000, n_wedge), rng.integers(20, 200, n_wedge)))
    # a few huge regional polygons (LTE/5G or satellite footprints), some with holes
    c = np.column_stack(
        [
            rng.uniform(X_MIN + 20000, X_MAX - 20000, n_huge),
            rng.uniform(Y_MIN + 20000, Y_MAX - 20000, n_huge),
        ]
    )
    hr = rng.uniform(12000, 45000, n_huge)
    huge = _stars(rng, c, hr, rng.integers(300, 501, n_huge), roughness=0.3)
    holes = _stars(
        rng, c + rng.normal(0, 3000, (n_huge, 2)), hr * 0.1, np.full(n_huge, 60), roughness=0.1
    )
    with_hole = rng.random(n_huge) < 0.5
    huge[with_hole] = shapely.difference(huge[with_hole], holes[with_hole])
    out.append(huge)

    polys = np.concatenate(out)
    polys = polys[rng.permutation(len(polys))]
    bad = ~shapely.is_valid(polys)
    if bad.any():  # not expected; keep the data valid as validate_offers would
        polys[bad] = shapely.make_valid(polys[bad])
    return polys


PROVIDERS = np.array(
    ["Telekom", "Vodafone", "Westnetz", "Muenet", "Sewikom", "1&1", "Deutsche Glasfaser"]
)
TECHNOLOGIES = np.array(["ftth", "docsis", "vdsl", "adsl", "fwa", "lte"])


def make_offers(down: np.ndarray, seed: int = 1) -> pd.DataFrame:
    """Canonical offer rows for the polygons of :func:`make_dataset` (one row each).

    Providers, technologies, upload speeds and latencies vary; one offer in eight is
    planned, with a date within three years, so a classification reads every column.
    """
    rng = np.random.default_rng(seed + 1)
    m = len(down)
    planned = rng.random(m) < 0.125
    start = np.datetime64("2026-01-01")
    return pd.DataFrame(
        {
            "provider": pd.array(rng.choice(PROVIDERS, m), dtype="string"),
            "technology": pd.array(rng.choice(TECHNOLOGIES, m), dtype="string"),
            "down_mbps": down,
            "up_mbps": np.round(down * rng.choice([0.1, 0.2, 0.5, 1.0], m), 1),
            "latency_ms": rng.choice([8.0, 15.0, 30.0, 60.0, 120.0], m),
            "status": pd.array(np.where(planned, "planned", "existing"), dtype="string"),
            "available_from": np.where(
                planned,
                start + rng.integers(0, 1100, m).astype("timedelta64[D]"),
                np.datetime64("NaT"),
            ).astype("datetime64[ms]"),
            "source": pd.array(np.full(m, "bench"), dtype="string"),
        }
    )
