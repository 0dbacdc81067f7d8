"""Deterministic synthetic addresses and coverage polygons for the kernel benchmarks.

EPSG:25832 over a 120 km x 110 km area like Suedwestfalen (x 390000-510000,
y 5620000-5730000). Addresses cluster in towns, villages and hamlets, plus scattered farms.
Polygons are village footprints, town areas, rings with holes, multipolygons, wedge-shaped
radio sectors and a few huge regional polygons, all overlapping, with 20-500 vertices each
(~12 covering polygons per address): :func:`make_dataset`, the "current" set.

The "dense" set (:func:`make_dense_dataset`, :func:`make_dense_polygons`) matches a
measured realistic set (:data:`DENSE_TARGET`): 20,000 polygons with ~2.9M vertices (median
~71, up to ~2,100), ~1,115 with holes, ~32 covering polygons per address on average
(p90 ~72); the polygons sit on the addresses, so ``bench/dense_coverage.py`` puts them over
any address file (the demo's 5M). :func:`dataset_stats` / :func:`format_stats` give the
statistics every bench prints.
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


# --------------------------------------------------------------------------------------
# The dense profile: realistic coverage as measured on a synthetic Suedwestfalen-like set
# --------------------------------------------------------------------------------------

#: statistics of the measured realistic set the dense profile matches (or exceeds)
DENSE_TARGET = {
    "polygons": 20_000,
    "vertices_total": 2_900_000,
    "vertices_median": 71,
    "vertices_max": 2_100,
    "with_holes": 1_115,
    "pairs_mean": 32.0,
    "pairs_p90": 72,
    "pairs_max": 179,
}
#: gigabit technologies (FTTH, DOCSIS 3.1) reach this share of addresses in the dense
#: coverage file, so about 30 % of the addresses are eligible as in the measured set
DENSE_GIGABIT_SHARE = 0.70


def make_dense_dataset(
    n_addresses: int, n_polygons: int = 20_000, seed: int = 1
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(x, y, polygons, down_mbps) of the dense profile: the addresses of
    :func:`make_dataset` (same seed, same points) under :func:`make_dense_polygons`."""
    rng = np.random.default_rng(seed)
    centres, radii, weights = _settlements(rng)
    x, y = make_addresses(n_addresses, rng, centres, radii, weights)
    polys, _ = make_dense_polygons(x, y, n_polygons, seed)
    down = np.random.default_rng(seed + 7).choice(SPEEDS, len(polys))
    return x, y, polys, down


def _anchors(x: np.ndarray, y: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """``k`` polygon centres drawn from the addresses (every address equally likely):
    coverage piles up where people live, as build areas and cells of many operators do."""
    pick = rng.choice(len(x), k)
    return np.column_stack([x[pick], y[pick]])


def _dense_layout(x: np.ndarray, y: np.ndarray, m: int, seed: int) -> dict:
    """The random plan of the dense polygons (centres, unit radii, vertex counts, kinds),
    independent of the radius scale that :func:`make_dense_polygons` calibrates."""
    rng = np.random.default_rng(seed + 11)
    n_region = max(2, m // 500)  # LTE/5G footprints, 8-30 km, 1,000-1,840 vertices (+holes)
    n_region_holed = int(0.6 * n_region)
    n_ring = max(
        0, round(DENSE_TARGET["with_holes"] / DENSE_TARGET["polygons"] * m) - n_region_holed
    )
    n_multi = int(0.08 * m)
    n_wedge = int(0.10 * m)
    n_foot = m - n_region - n_ring - n_multi - n_wedge
    kinds = np.repeat(
        np.array(["region", "ring", "multi", "wedge", "footprint"]),
        [n_region, n_ring, n_multi, n_wedge, n_foot],
    )
    radius = np.concatenate(
        [
            rng.uniform(8_000, 30_000, n_region),
            rng.lognormal(np.log(900), 0.6, n_ring),
            rng.lognormal(np.log(300), 0.5, n_multi),
            rng.uniform(1_000, 6_000, n_wedge),
            rng.lognormal(np.log(350), 0.9, n_foot),
        ]
    )
    centres = _anchors(x, y, m - n_region, rng)
    region_c = np.column_stack(
        [rng.uniform(X_MIN + 10_000, X_MAX - 10_000, n_region),
         rng.uniform(Y_MIN + 10_000, Y_MAX - 10_000, n_region)]
    )  # fmt: skip
    centres = np.concatenate([region_c, centres])
    # vertex counts: log-normal (median ~71), the larger polygons getting the larger counts
    nv = np.clip(rng.lognormal(np.log(72), 1.21, m - n_region), 12, 2_100).astype(np.int64)
    rank = np.argsort(np.argsort(np.log(radius[n_region:]) + rng.normal(0, 1.0, m - n_region)))
    nv = np.concatenate([rng.integers(1_000, 1_841, n_region), np.sort(nv)[rank]])
    return {
        "rng_seed": seed + 12,
        "kinds": kinds,
        "centres": centres,
        "radius": radius,
        "nv": nv,
        "n_region_holed": n_region_holed,
        "cell_u": rng.random(m),
    }


def _dense_shapes(plan: dict, scale: float) -> np.ndarray:
    """The polygons of a plan with every radius times ``scale`` (same noise every time)."""
    rng = np.random.default_rng(plan["rng_seed"])
    kinds, c, nv = plan["kinds"], plan["centres"], plan["nv"]
    r = plan["radius"] * scale
    out = np.empty(len(kinds), dtype=object)
    sel = np.flatnonzero(kinds == "region")
    region = _stars(rng, c[sel], r[sel], nv[sel], roughness=0.3)
    holed = sel[: plan["n_region_holed"]]
    n_holes = rng.integers(1, 7, len(holed))
    owner = np.repeat(np.arange(len(holed)), n_holes)
    # dead zones well inside the footprint (star radius >= r * e^-1.2 > 0.3 r)
    ang = rng.uniform(0, 2 * np.pi, len(owner))
    dist = r[holed][owner] * rng.uniform(0.0, 0.15, len(owner))
    hc = c[holed][owner] + dist[:, None] * np.column_stack([np.cos(ang), np.sin(ang)])
    holes = _stars(rng, hc, r[holed][owner] * 0.02, np.full(len(owner), 40), roughness=0.1)
    hole_union = shapely.union_all  # holes of one footprint may overlap: merge them
    merged = np.array([hole_union(holes[owner == i]) for i in range(len(holed))], dtype=object)
    region[: len(holed)] = shapely.difference(region[: len(holed)], merged)
    out[sel] = region
    sel = np.flatnonzero(kinds == "ring")
    n_in = np.maximum(nv[sel] // 4, 8)
    outer = _stars(rng, c[sel], r[sel], np.maximum(nv[sel] - n_in, 8), roughness=0.08)
    inner = _stars(rng, c[sel], r[sel] * rng.uniform(0.3, 0.5, len(sel)), n_in, roughness=0.08)
    out[sel] = shapely.difference(outer, inner)
    sel = np.flatnonzero(kinds == "multi")
    parts = rng.integers(2, 5, len(sel))
    owner = np.repeat(np.arange(len(sel)), parts)
    step = np.repeat(rng.uniform(0, 2 * np.pi, len(sel)), parts)
    k = np.arange(len(owner)) - np.repeat(np.cumsum(parts) - parts, parts)
    rr = r[sel][owner]
    pc = c[sel][owner] + (k * 3.5 * rr)[:, None] * np.column_stack([np.cos(step), np.sin(step)])
    per_part = np.maximum(nv[sel][owner] // parts[owner], 8)
    blobs = _stars(rng, pc, rr, per_part, roughness=0.08)
    out[sel] = shapely.multipolygons(blobs, indices=owner)
    sel = np.flatnonzero(kinds == "wedge")
    out[sel] = _wedges(rng, c[sel], r[sel], np.maximum(nv[sel], 8))
    sel = np.flatnonzero(kinds == "footprint")
    out[sel] = _stars(rng, c[sel], r[sel], nv[sel], roughness=0.3)
    bad = ~shapely.is_valid(out)
    if bad.any():  # not expected; keep the data valid as validate_offers would
        out[bad] = shapely.make_valid(out[bad])
    return out


def pairs_per_address(x: np.ndarray, y: np.ndarray, polys: np.ndarray) -> np.ndarray:
    """Number of polygons covering each address (the kernel's pairs, counted)."""
    from coverage.kernel.join import points_in_polygons

    p, _ = points_in_polygons(x, y, polys)
    return np.bincount(p, minlength=len(x))


def make_dense_polygons(
    x: np.ndarray, y: np.ndarray, m: int = 20_000, seed: int = 1, *, sample: int = 200_000
) -> tuple[np.ndarray, dict]:
    """``m`` dense coverage polygons placed where the addresses ``x, y`` are, and the plan.

    Mix: regional LTE/5G footprints (8-30 km, 1,000-1,840 vertices, most with dead-zone
    holes), rings around settlements (holes), multipolygons, radio sectors and footprints
    of build areas, 12-2,100 vertices per polygon (median ~71, larger polygons more). Every
    centre but the regional ones is an address drawn at random. All radii are then scaled so that a sample of ``sample`` addresses
    has :data:`DENSE_TARGET` ``pairs_mean`` covering polygons per address on average (a
    few joins with the kernel); deterministic for the same addresses and seed.
    """
    plan = _dense_layout(x, y, m, seed)
    rng = np.random.default_rng(seed + 13)
    pick = rng.choice(len(x), min(sample, len(x)), replace=False)
    sx, sy = x[pick], y[pick]
    scale, target = 1.1, DENSE_TARGET["pairs_mean"]
    slope, last = 2.0, None  # d log(mean) / d log(scale), refined by secant steps
    for _ in range(6):
        polys = _dense_shapes(plan, scale)
        mean = max(float(pairs_per_address(sx, sy, polys).mean()), 1e-3)
        if abs(mean / target - 1) < 0.02:
            break
        if last is not None and last[0] != scale:
            slope = float(np.clip(np.log(mean / last[1]) / np.log(scale / last[0]), 0.5, 3.0))
        last = (scale, mean)
        scale *= (target / mean) ** (1.0 / slope)
    plan["scale"] = scale
    return polys, plan


def dataset_stats(
    x: np.ndarray, y: np.ndarray, polys: np.ndarray, counts: np.ndarray | None = None
) -> dict:
    """Statistics of a data set: covering polygons per address (mean, p90, max; from
    ``counts`` per address when given, else joined here), vertices (total, median, max)
    and polygons with holes."""
    if counts is None:
        counts = pairs_per_address(x, y, polys)
    nv = shapely.get_num_coordinates(polys)
    parts = shapely.get_parts(polys, return_index=True)
    holed = np.unique(parts[1][shapely.get_num_interior_rings(parts[0]) > 0])
    return {
        "addresses": len(x),
        "polygons": len(polys),
        "pairs": int(counts.sum()),
        "pairs_mean": float(counts.mean()) if len(counts) else 0.0,
        "pairs_p90": int(np.percentile(counts, 90)) if len(counts) else 0,
        "pairs_max": int(counts.max(initial=0)),
        "vertices_total": int(nv.sum()),
        "vertices_median": int(np.median(nv)),
        "vertices_max": int(nv.max(initial=0)),
        "with_holes": len(holed),
    }


def format_stats(name: str, s: dict) -> str:
    """One line for a bench's output (and docs/performance.md) naming the data set."""
    return (
        f"data set {name}: {s['addresses']:,} addresses x {s['polygons']:,} polygons; "
        f"covering polygons per address mean {s['pairs_mean']:.1f}, p90 {s['pairs_p90']}, "
        f"max {s['pairs_max']} ({s['pairs']:,} pairs); vertices {s['vertices_total']:,} "
        f"(median {s['vertices_median']}, max {s['vertices_max']:,}); "
        f"{s['with_holes']:,} polygons with holes"
    )
