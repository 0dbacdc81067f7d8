"""Synthetic coverage polygons for the Suedwestfalen demo (pure, no file I/O).

All operators are fictional ("Demo ..."). The networks follow the settlement plan, not the
sampled addresses, so they are identical at every demo scale. The mix is tuned so that the
Gigabit-RL 2.0 picture resembles the real Sauerland: towns mostly gigabit (cable DOCSIS 3.1
or fibre), villages a patchwork of fibre, cable, VDSL and plain ADSL, scattered farms mostly
without a fast wired line; the upland Gemeinden fare clearly worse than the towns.
"""

from __future__ import annotations

from datetime import date

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from coverage.demo.settlements import KIND_TOWN, SettlementPlan
from coverage.schema import LOW_LATENCY_MS, OFFER_COLUMNS, Technology

P_FTTH_A = "Demo Glasfaser Sauerland"
P_INCUMBENT = "Demo Netz Südwestfalen"
P_CABLE = "Demo Kabelnetz"
P_VDSL2 = "Demo Telekabel"
P_FWA = "Demo Funk"
P_SAT = "Demo Sat"
SOURCE = "demo synthetic"

#: Street-cabinet VDSL: speed falls with line length, modelled as rings (outer radius m,
#: down, up). The incumbent has super-vectoring; the second operator plain vectoring.
VDSL_RINGS = ((300.0, 250.0, 40.0), (550.0, 100.0, 40.0), (800.0, 50.0, 10.0), (1200.0, 16.0, 2.0))
VDSL2_RINGS = ((450.0, 100.0, 40.0), (800.0, 50.0, 10.0), (1200.0, 16.0, 2.0))
#: Addresses served by one street cabinet (at full scale).
ADDRESSES_PER_CABINET = 170.0
SEGMENTS = 64  # vertices per circle: realistic file sizes and point-in-polygon costs


class _Layers:
    """Accumulates offer rows (attribute arrays + polygons) layer by layer."""

    def __init__(self) -> None:
        self.parts: list[pd.DataFrame] = []
        self.geoms: list[np.ndarray] = []

    def add(
        self,
        geoms: np.ndarray,
        provider: str | np.ndarray,
        technology: Technology,
        down: float | np.ndarray,
        up: float | np.ndarray,
        latency: float,
        available_from: np.ndarray | None = None,
    ) -> None:
        n = len(geoms)
        if n == 0:
            return
        planned = available_from is not None
        frame = pd.DataFrame(
            {
                "provider": np.broadcast_to(np.asarray(provider, dtype=object), (n,)),
                "technology": technology.value,
                "down_mbps": np.broadcast_to(np.asarray(down, dtype=float), (n,)),
                "up_mbps": np.broadcast_to(np.asarray(up, dtype=float), (n,)),
                "latency_ms": float(latency),
                "status": "planned" if planned else "existing",
                "available_from": (
                    available_from if planned else np.full(n, np.datetime64("NaT"), "M8[ms]")
                ),
            }
        )
        self.parts.append(frame)
        self.geoms.append(np.asarray(geoms, dtype=object))


def _rings(cx: np.ndarray, cy: np.ndarray, r: np.ndarray) -> np.ndarray:
    """(n, SEGMENTS+1, 2) closed circle coordinates."""
    t = np.linspace(0.0, 2 * np.pi, SEGMENTS + 1)
    t[-1] = 0.0
    xs = cx[:, None] + r[:, None] * np.cos(t)[None, :]
    ys = cy[:, None] + r[:, None] * np.sin(t)[None, :]
    return np.stack([xs, ys], axis=-1)


def circles(cx: np.ndarray, cy: np.ndarray, r: np.ndarray) -> np.ndarray:
    """Circle polygons with SEGMENTS vertices (vectorised)."""
    return shapely.polygons(_rings(cx, cy, np.broadcast_to(r, cx.shape)))


def annuli(cx: np.ndarray, cy: np.ndarray, r_in: float, r_out: float) -> np.ndarray:
    """Ring polygons (outer circle with a circular hole)."""
    shells = shapely.linearrings(_rings(cx, cy, np.full(len(cx), r_out)))
    holes = shapely.linearrings(_rings(cx, cy, np.full(len(cx), r_in)))
    return shapely.polygons(shells, holes=holes[:, None])


def blobs(cx: np.ndarray, cy: np.ndarray, r: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Irregular footprints: circles whose radius wobbles with a few low harmonics.

    Star-shaped around the centre with a positive radius, so always valid; real network
    footprints follow streets, which at this level of detail reads as a wobbly outline.
    """
    n = len(cx)
    t = np.linspace(0.0, 2 * np.pi, SEGMENTS + 1)
    t[-1] = 0.0
    wobble = np.ones((n, SEGMENTS + 1))
    for k in (2, 3, 5):
        amp = rng.uniform(0.0, 0.07, n)[:, None]
        phase = rng.uniform(0.0, 2 * np.pi, n)[:, None]
        wobble += amp * np.cos(k * t[None, :] + phase)
    rr = np.broadcast_to(r, (n,))[:, None] * wobble
    xs = cx[:, None] + rr * np.cos(t)[None, :]
    ys = cy[:, None] + rr * np.sin(t)[None, :]
    return shapely.polygons(np.stack([xs, ys], axis=-1))


def wedges(
    cx: np.ndarray, cy: np.ndarray, azimuth: np.ndarray, width: float, r: float
) -> np.ndarray:
    """Antenna sectors: centre + arc of ``width`` radians around ``azimuth``."""
    a = azimuth[:, None] + np.linspace(-width / 2, width / 2, 33)[None, :]
    arc = np.stack([cx[:, None] + r * np.cos(a), cy[:, None] + r * np.sin(a)], axis=-1)
    ctr = np.stack([cx, cy], axis=-1)[:, None, :]
    return shapely.polygons(np.concatenate([ctr, arc, ctr], axis=1))


def _planned_dates(n: int, as_of: date, rng: np.random.Generator) -> np.ndarray:
    """First-of-month dates: half inside the 36-month horizon (2027–2029), rest 2030–2031."""
    start = np.datetime64(f"{as_of.year + 1}-01", "M")
    inside = start + rng.integers(0, 27, n)  # 2027-01 .. 2029-03, before as_of + 36 months
    outside = np.datetime64(f"{as_of.year + 4}-01", "M") + rng.integers(0, 24, n)
    months = np.where(rng.random(n) < 0.5, inside, outside)
    return months.astype("M8[D]").astype("M8[ms]")


def _cabinets(cl: pd.DataFrame, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Street cabinets spread over the built-up area of the given clusters."""
    k = np.maximum(1, np.ceil(cl["n_full"].to_numpy() / ADDRESSES_PER_CABINET)).astype(int)
    idx = np.repeat(np.arange(len(cl)), k)
    sig = cl["sigma"].to_numpy()[idx]
    x = cl["cx"].to_numpy()[idx] + rng.normal(0, 1, len(idx)) * sig * 0.9
    y = cl["cy"].to_numpy()[idx] + rng.normal(0, 1, len(idx)) * sig * 0.9
    return x, y


def _vdsl(
    layers: _Layers,
    x: np.ndarray,
    y: np.ndarray,
    provider: str,
    rings: tuple[tuple[float, float, float], ...],
) -> None:
    inner = 0.0
    for outer, down, up in rings:
        geoms = circles(x, y, np.full(len(x), outer)) if inner == 0 else annuli(x, y, inner, outer)
        layers.add(geoms, provider, Technology.VDSL, down, up, 15.0)
        inner = outer


def build_coverage(
    plan: SettlementPlan, gem: gpd.GeoDataFrame, rng: np.random.Generator, as_of: date
) -> gpd.GeoDataFrame:
    """All demo offers as one canonical coverage frame (EPSG:25832), clipped to the region."""
    cl = plan.clusters
    n = len(cl)
    rural = plan.rurality[cl["gem"].to_numpy()]
    town = cl["kind"].to_numpy() == KIND_TOWN
    cx, cy, sig = cl["cx"].to_numpy(), cl["cy"].to_numpy(), cl["sigma"].to_numpy()
    settle = cl["settlement"].to_numpy()
    town_size = cl.groupby("settlement")["n_full"].transform("sum").to_numpy()

    # Town-wide operator presence (second VDSL network) is one draw per settlement; the
    # rest is drawn per cluster (town quarter or village), which keeps a Gemeinde's result
    # from hinging on a single coin flip for its only town.
    u_set = rng.random(int(settle.max()) + 1)[settle]
    u = rng.random((n, 4))

    # Cable (DOCSIS 3.1): nearly all quarters of larger towns, fewer small towns and villages.
    p_town = np.where(town_size >= 3000, 0.85, 0.7 - 0.2 * rural)
    cable_here = u[:, 0] < np.where(town, p_town, 0.27 - 0.22 * rural)
    # Fibre: whole villages (local fibre projects), and most town quarters without cable.
    p_fibre = np.where(town, 0.75 - 0.25 * rural, 0.22 - 0.1 * rural)
    # The centre of each Gemeinde's main town always gets one of the two: a town centre
    # with neither would be an implausible outlier in 2026.
    main = np.zeros(n, dtype=bool)
    main[cl.assign(size=town_size).groupby("gem")["size"].idxmax().to_numpy()] = True
    fibre_here = ~cable_here & ((u[:, 1] < p_fibre) | main)
    fibre_part = town & cable_here & (u[:, 3] < 0.25)  # a new-build quarter in a cabled town
    gigabit = cable_here | fibre_here
    # VDSL: all towns, most villages; a second VDSL network in many towns, a few villages.
    has_vdsl = town | (u[:, 3] < 0.9 - 0.35 * rural)
    has_vdsl2 = has_vdsl & (u_set < np.where(town, 0.7, 0.15))
    planned = ~gigabit & (u[:, 2] < np.where(town, 0.15, 0.25))

    layers = _Layers()
    sel = np.flatnonzero(cable_here)
    # Town footprints cover 45–89 % of a quarter (1.1–2.1 sigma), villages nearly all.
    reach = np.where(town, rng.uniform(1.1, 2.1, n), 2.4)
    r_cable = reach[sel] * sig[sel]
    layers.add(
        blobs(cx[sel], cy[sel], r_cable, rng), P_CABLE, Technology.HFC_DOCSIS31, 1000.0, 50.0, 12.0
    )

    sel = np.flatnonzero(fibre_here)
    fibre_owner = np.where(rng.random(len(sel)) < 0.6, P_FTTH_A, P_INCUMBENT)
    fibre_up = np.where(fibre_owner == P_FTTH_A, 500.0, 1000.0)
    r_fibre = np.where(town, reach, 2.6)[sel] * sig[sel]
    layers.add(
        blobs(cx[sel], cy[sel], r_fibre, rng), fibre_owner, Technology.FTTH, 1000.0, fibre_up, 6.0
    )

    sel = np.flatnonzero(fibre_part)
    ang = rng.uniform(0, 2 * np.pi, len(sel))
    px, py = cx[sel] + sig[sel] * np.cos(ang), cy[sel] + sig[sel] * np.sin(ang)
    layers.add(
        blobs(px, py, 0.9 * sig[sel], rng), P_INCUMBENT, Technology.FTTH, 1000.0, 1000.0, 6.0
    )

    sel = np.flatnonzero(planned)
    layers.add(
        blobs(cx[sel], cy[sel], 2.6 * sig[sel], rng),
        P_FTTH_A,
        Technology.FTTH,
        1000.0,
        500.0,
        6.0,
        available_from=_planned_dates(len(sel), as_of, rng),
    )

    _vdsl(layers, *_cabinets(cl[has_vdsl], rng), P_INCUMBENT, VDSL_RINGS)
    _vdsl(layers, *_cabinets(cl[has_vdsl2], rng), P_VDSL2, VDSL2_RINGS)
    _adsl(layers, plan, rng)
    _fwa(layers, plan, rng)

    region = shapely.union_all(gem.geometry.values)
    sat = np.array([region, region], dtype=object)
    layers.add(sat[:1], P_SAT, Technology.SATELLITE_GEO, 100.0, 5.0, 600.0)
    layers.add(sat[1:], P_SAT, Technology.SATELLITE_NGSO, 250.0, 20.0, 600.0)
    return _assemble(layers, region, as_of)


def _adsl(layers: _Layers, plan: SettlementPlan, rng: np.random.Generator) -> None:
    """ADSL from the local exchanges: the main town, plus one per ~120 km² in large Gemeinden."""
    cl = plan.clusters
    xs: list[float] = []
    ys: list[float] = []
    for _, grp in cl.groupby("gem", sort=True):
        if rng.random() < 0.1:  # a few Gemeinden are served from a neighbour's exchange
            continue
        big = grp.sort_values("n_full", ascending=False, kind="stable")
        extra = int(np.ptp(grp["cx"]) * np.ptp(grp["cy"]) / 120e6)
        take = big.iloc[: 1 + extra]
        xs.extend(take["cx"])
        ys.extend(take["cy"])
    x, y = np.asarray(xs), np.asarray(ys)
    layers.add(
        blobs(x, y, np.full(len(x), 5000.0), rng), P_INCUMBENT, Technology.ADSL, 6.0, 0.5, 25.0
    )


def _fwa(layers: _Layers, plan: SettlementPlan, rng: np.random.Generator) -> None:
    """Licensed fixed wireless: three 120° sectors from masts in a few upland villages."""
    cl = plan.clusters
    upland = np.flatnonzero((cl["kind"].to_numpy() != KIND_TOWN) & (plan.rurality[cl["gem"]] > 0.5))
    if len(upland) == 0:
        return
    masts = rng.choice(upland, size=min(16, len(upland)), replace=False)
    x = np.repeat(cl["cx"].to_numpy()[masts], 3)
    y = np.repeat(cl["cy"].to_numpy()[masts], 3)
    az = np.repeat(rng.uniform(0, 2 * np.pi, len(masts)), 3) + np.tile(
        [0, 2.0944, 4.1888], len(masts)
    )
    layers.add(wedges(x, y, az, 2.0944, 6000.0), P_FWA, Technology.FWA_LICENSED, 50.0, 10.0, 30.0)


def _assemble(layers: _Layers, region: shapely.Geometry, as_of: date) -> gpd.GeoDataFrame:
    """Concatenate the layers, clip what crosses the region border, add the canonical columns."""
    frame = pd.concat(layers.parts, ignore_index=True)
    geoms = np.concatenate(layers.geoms)
    shapely.prepare(region)
    outside = ~shapely.contains(region, geoms)
    if outside.any():
        clipped = shapely.intersection(geoms[outside], region)
        geoms[outside] = [_polygonal(g) for g in clipped]
    keep = ~shapely.is_empty(geoms) & (shapely.area(geoms) > 1.0)
    frame, geoms = frame[keep].reset_index(drop=True), geoms[keep]
    frame["low_latency"] = frame["latency_ms"] <= LOW_LATENCY_MS
    frame["source"] = SOURCE
    frame["as_of"] = pd.Timestamp(as_of)
    out = gpd.GeoDataFrame(frame, geometry=geoms, crs="EPSG:25832")
    out = out.astype(dict(OFFER_COLUMNS))
    return out[[*OFFER_COLUMNS, "geometry"]]


def _polygonal(geom: shapely.Geometry) -> shapely.Geometry:
    """Keep the areal part of a clipped geometry (intersections may add slivers of lines)."""
    if shapely.get_type_id(geom) in (3, 6):
        return geom
    polys = [p for p in shapely.get_parts(geom) if shapely.get_type_id(p) == 3]
    if not polys:
        return shapely.Polygon()
    return polys[0] if len(polys) == 1 else shapely.MultiPolygon(polys)
