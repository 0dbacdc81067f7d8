"""Deterministic synthetic Suedwestfalen demo: addresses and coverage on the real boundaries.

Pure: frames in, frames out, no file access (``coverage.io.demo_files`` reads the committed
boundaries and places and writes the demo inputs). Everything generated here is SYNTHETIC
and fictional: the address points, street names, house numbers and every operator
("Demo ..."); only the Gemeinde polygons and the town names/positions are real.

Three independent random streams (settlement plan, coverage, address sampling) are spawned
from the seed, so the plan and the coverage depend on the seed only, never on ``scale``: a
small test run sees the same networks as a full run, just fewer addresses.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import geopandas as gpd
import numpy as np
import pandas as pd

from coverage.demo.networks import build_coverage
from coverage.demo.settlements import (
    KIND_SCATTERED,
    KIND_TOWN,
    KIND_VILLAGE,
    SettlementPlan,
    plan_settlements,
    sample_points,
)
from coverage.schema import ADDRESS_COLUMNS, SiteType

#: The demo's fixed reference date; planned roll-out dates are placed relative to it.
DEMO_AS_OF = date(2026, 6, 30)
DEFAULT_SEED = 20261125
WORKING_CRS = "EPSG:25832"

#: Plausible, invented street names (with ß, umlauts and hyphens on purpose: encodings and
#: CSV quoting get exercised). Settlements draw from this list; farms from RURAL_STREETS.
STREETS: tuple[str, ...] = (
    "Hauptstraße", "Kirchweg", "Am Mühlenbach", "Schulstraße", "Bahnhofstraße", "Lindenstraße",
    "Gartenstraße", "Bergstraße", "Talstraße", "Waldweg", "Am Sportplatz", "Im Siepen",
    "Kreuzstraße", "Sauerlandstraße", "Am Hang", "Birkenweg", "Eichenweg", "Buchenweg",
    "Tannenweg", "Ahornweg", "Drosselweg", "Amselweg", "Finkenweg", "Lerchenweg", "Meisenweg",
    "Am Bach", "Wiesenstraße", "Feldstraße", "Ringstraße", "Friedhofstraße", "Mühlenstraße",
    "Dorfstraße", "Alte Landstraße", "In der Aue", "Auf dem Bruch", "Am Buchholz", "Hüttenweg",
    "Grubenweg", "Schützenstraße", "Marktplatz", "Poststraße", "Brückenstraße", "Lennestraße",
    "Ruhrstraße", "Siegstraße", "Konrad-Adenauer-Straße", "Friedrich-Ebert-Straße",
    "Freiherr-vom-Stein-Straße", "Kolpingstraße", "Hochstraße", "Südstraße", "Nordring",
    "Westfalenstraße", "Im Grund", "Zur Hütte", "Schloßstraße", "Große Straße", "Weißdornweg",
    "Gießereistraße", "Am Schlößchen", "Fußpfad", "Sankt-Georg-Straße", "Rosenweg", "Tulpenweg",
    "Nelkenweg", "Fliederweg", "Am Steinbruch", "Hammerweg", "Kohlenstraße", "Zum Hochwald",
    "Auf der Heide", "Heidestraße", "Im Winkel", "Unterdorf", "Oberdorf", "Am Kreuzberg",
    "Kapellenweg", "Pfarrer-Kneipp-Straße", "Jahnstraße", "Goethestraße", "Schillerstraße",
    "Uhlandstraße", "Mozartstraße", "Beethovenstraße", "Industriestraße", "Gewerbestraße",
    "Am Bahndamm", "Weststraße", "Oststraße", "Am Teich", "Weiherstraße", "Quellenweg",
    "Brunnenstraße", "Sonnenhang", "Am Rain", "Höhenweg", "Tal-Ende", "Hof-Esch-Weg",
    "Bürgermeister-Schmidt-Straße", "Graf-Engelbert-Straße", "Im Ösch", "Lüdenscheider Straße",
    "Arnsberger Straße", "Siegener Straße", "Soester Weg", "Lippestraße", "Möhnestraße",
    "Volmestraße", "Biggestraße", "Ederweg", "Am Rothaarsteig", "Kahler-Asten-Weg",
)  # fmt: skip
RURAL_STREETS: tuple[str, ...] = (
    "Außenbereich", "Auf der Höhe", "Zum Hof", "Am Waldrand", "Hofweg", "Im Feld",
    "Heckenweg", "Zur Mühle", "Auf dem Knapp", "Hohl", "Am Hofe", "Forsthaus",
    "Kottenweg", "Schäferei", "Zum Gießkamp", "Heide-Hof",
)  # fmt: skip
#: Cell size (m) that becomes one street: a few dozen houses in a settlement.
STREET_CELL_M = 170.0
RURAL_STREET_CELL_M = 900.0


@dataclass(frozen=True)
class DemoData:
    """One generated demo: canonical address points and coverage polygons (EPSG:25832)."""

    addresses: gpd.GeoDataFrame
    coverage: gpd.GeoDataFrame
    as_of: date
    seed: int
    scale: float


def generate_demo(
    gemeinden: gpd.GeoDataFrame,
    places: pd.DataFrame,
    *,
    scale: float = 1.0,
    seed: int = DEFAULT_SEED,
) -> DemoData:
    """Generate synthetic addresses (~380,000 at scale 1.0) and coverage for the region.

    ``gemeinden``: EPSG:25832 polygons with ``ags`` (8 digits) and ``name``.
    ``places``: ``name``, ``x``, ``y`` (EPSG:25832), ``population`` (may be NA), ``ags``.
    Identical arguments give identical frames (row order included).
    """
    if scale <= 0:
        raise ValueError(f"scale must be > 0, got {scale}")
    gem = gemeinden.sort_values("ags", kind="stable").reset_index(drop=True)
    gem = gem[["ags", "name", "geometry"]].to_crs(WORKING_CRS)
    plc = places.sort_values(["ags", "name"], kind="stable").reset_index(drop=True)
    plan_ss, cover_ss, address_ss = np.random.SeedSequence(seed).spawn(3)
    plan = plan_settlements(gem, plc, np.random.default_rng(plan_ss))
    coverage = build_coverage(plan, gem, np.random.default_rng(cover_ss), DEMO_AS_OF)
    rng = np.random.default_rng(address_ss)
    points = sample_points(plan, gem, scale, rng)
    addresses = _addresses(points, plan, gem, scale, rng)
    return DemoData(
        addresses=addresses, coverage=coverage, as_of=DEMO_AS_OF, seed=seed, scale=scale
    )


def _addresses(
    pts: pd.DataFrame,
    plan: SettlementPlan,
    gem: gpd.GeoDataFrame,
    scale: float,
    rng: np.random.Generator,
) -> gpd.GeoDataFrame:
    """Give the sampled points their canonical attributes and a stable order and id."""
    cl = plan.clusters
    n = len(pts)
    kind = pts["kind"].to_numpy()
    cluster = pts["cluster"].to_numpy()
    ags = gem["ags"].to_numpy(dtype=object)[pts["gem"].to_numpy()]
    place = np.full(n, None, dtype=object)
    in_cluster = cluster >= 0
    place[in_cluster] = cl["place"].to_numpy(dtype=object)[cluster[in_cluster]]
    place = _nearest_place_for_farms(pts, cl, place)

    site = _site_types(kind, rng)
    _place_institutions(site, pts, plan, gem, scale, rng)
    households = _households(site, kind, rng)
    street = _streets(pts, cluster, rng)

    frame = pd.DataFrame(
        {
            "ags": ags,
            "place": place,
            "street": street,
            "site_type": site,
            "households": households,
            "x": pts["x"].to_numpy(),
            "y": pts["y"].to_numpy(),
        }
    )
    # House numbers run along each street (west to east), then suffixes on a few.
    frame = frame.sort_values(["ags", "place", "street", "x", "y"], kind="stable")
    frame = frame.reset_index(drop=True)
    number = frame.groupby(["ags", "place", "street"], sort=False).cumcount().to_numpy() + 1
    suffix_draw = rng.random(n)
    suffix = np.full(n, None, dtype=object)
    suffix[suffix_draw < 0.04] = "a"
    suffix[(suffix_draw >= 0.04) & (suffix_draw < 0.05)] = "b"
    seq = frame.groupby("ags", sort=False).cumcount().to_numpy() + 1
    address_id = pd.Series(frame["ags"].to_numpy(), dtype="string")
    address_id = "DEMO-" + address_id + "-" + pd.Series(seq).astype("string").str.zfill(6)

    out = gpd.GeoDataFrame(
        {
            "address_id": address_id.to_numpy(),
            "ags": pd.array(frame["ags"].to_numpy(), dtype="string"),
            "street": pd.array(frame["street"].to_numpy(), dtype="string"),
            "house_number": pd.array(number.astype(str), dtype="string"),
            "suffix": pd.array(suffix, dtype="string"),
            "postcode": pd.array([pd.NA] * n, dtype="string"),
            "place": pd.array(frame["place"].to_numpy(), dtype="string"),
            "site_type": pd.array(frame["site_type"].to_numpy(), dtype="string"),
            "households": frame["households"].to_numpy(dtype="int32"),
        },
        geometry=gpd.points_from_xy(frame["x"], frame["y"]),
        crs=WORKING_CRS,
    )
    out = out.astype(dict(ADDRESS_COLUMNS))
    return out[[*ADDRESS_COLUMNS, "geometry"]]


def _nearest_place_for_farms(pts: pd.DataFrame, cl: pd.DataFrame, place: np.ndarray) -> np.ndarray:
    """Scattered farms take the name of the nearest settlement of their Gemeinde."""
    farm = np.flatnonzero(pts["cluster"].to_numpy() < 0)
    gem_of = pts["gem"].to_numpy()
    for g in np.unique(gem_of[farm]):
        f = farm[gem_of[farm] == g]
        cand = cl.index[cl["gem"].to_numpy() == g].to_numpy()
        dx = pts["x"].to_numpy()[f, None] - cl["cx"].to_numpy()[None, cand]
        dy = pts["y"].to_numpy()[f, None] - cl["cy"].to_numpy()[None, cand]
        place[f] = cl["place"].to_numpy(dtype=object)[cand[np.argmin(dx * dx + dy * dy, axis=1)]]
    return place


def _site_types(kind: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Private/business/public/farm by settlement kind (businesses in towns, farms outside)."""
    # columns: private, business, public, farm (cumulative thresholds per kind)
    probs = {
        KIND_TOWN: (0.0, 0.095, 0.012, 0.002),
        KIND_VILLAGE: (0.0, 0.045, 0.008, 0.022),
        KIND_SCATTERED: (0.0, 0.05, 0.005, 0.55),
    }
    u = rng.random(len(kind))
    site = np.full(len(kind), SiteType.PRIVATE.value, dtype=object)
    for k, (_, p_bus, p_pub, p_farm) in probs.items():
        sel = kind == k
        site[sel & (u < p_farm)] = SiteType.FARM.value
        site[sel & (u >= p_farm) & (u < p_farm + p_bus)] = SiteType.BUSINESS.value
        lo = p_farm + p_bus
        site[sel & (u >= lo) & (u < lo + p_pub)] = SiteType.PUBLIC.value
    return site


def _place_institutions(
    site: np.ndarray,
    pts: pd.DataFrame,
    plan: SettlementPlan,
    gem: gpd.GeoDataFrame,
    scale: float,
    rng: np.random.Generator,
) -> None:
    """Schools (~1 per 2,800 inhabitants, towns and larger villages) and ~30 town hospitals."""
    kind = pts["kind"].to_numpy()
    gem_of = pts["gem"].to_numpy()
    schools = np.floor(plan.population * scale / 2800.0 + rng.random(len(gem))).astype(int)
    for g in np.flatnonzero(schools):
        cand = np.flatnonzero(
            (gem_of == g) & (kind != KIND_SCATTERED) & (site != SiteType.FARM.value)
        )
        if len(cand):
            pick = rng.choice(cand, size=min(int(schools[g]), len(cand)), replace=False)
            site[pick] = SiteType.SCHOOL.value
    # Hospitals: 30 at full scale, shared among the towns by population (largest remainder).
    towns = plan.clusters[plan.clusters["kind"] == KIND_TOWN]
    town_pop = towns.groupby("settlement")["n_full"].sum()
    want = max(1, round(30 * scale))
    quota = town_pop / town_pop.sum() * want
    alloc = np.floor(quota).astype(int)
    rest = want - int(alloc.sum())
    alloc.iloc[np.argsort(-(quota - alloc).to_numpy(), kind="stable")[:rest]] += 1
    settlement_of = plan.clusters["settlement"].to_numpy()[np.maximum(pts["cluster"].to_numpy(), 0)]
    for s, k in alloc[alloc > 0].items():
        cand = np.flatnonzero(
            (pts["cluster"].to_numpy() >= 0)
            & (settlement_of == s)
            & (site == SiteType.PRIVATE.value)
        )
        if len(cand):
            site[rng.choice(cand, size=min(int(k), len(cand)), replace=False)] = (
                SiteType.HOSPITAL.value
            )


def _households(site: np.ndarray, kind: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Households per address: multi-family houses in towns, farms 1, businesses 0 or 1."""
    n = len(site)
    hh = np.zeros(n, dtype=np.int32)
    private = site == SiteType.PRIVATE.value
    u = rng.random(n)
    multi = 1 + rng.geometric(0.3, n)  # 2, 3, ... flats: a long tail of apartment blocks
    town = private & (kind == KIND_TOWN)
    hh[town] = np.where(u[town] < 0.5, 1, np.minimum(multi[town], 40))
    other = private & (kind != KIND_TOWN)
    hh[other] = np.where(u[other] < 0.78, 1, np.where(u[other] < 0.95, 2, 3))
    hh[site == SiteType.FARM.value] = 1
    business = site == SiteType.BUSINESS.value
    hh[business] = (u[business] < 0.3).astype(np.int32)  # flat above the shop
    return hh


def _streets(pts: pd.DataFrame, cluster: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One street per grid cell of a settlement; names do not repeat within a settlement."""
    scattered = cluster < 0
    cell = np.where(scattered, RURAL_STREET_CELL_M, STREET_CELL_M)
    cx = np.floor(pts["x"].to_numpy() / cell).astype(np.int64)
    cy = np.floor(pts["y"].to_numpy() / cell).astype(np.int64)
    owner = np.where(scattered, -1 - pts["gem"].to_numpy(), cluster)
    keys = pd.DataFrame({"owner": owner, "cx": cx, "cy": cy})
    grouped = keys.groupby(["owner", "cx", "cy"], sort=True)
    group = grouped.ngroup().to_numpy()
    g_owner = grouped["owner"].first().to_numpy()
    rank = pd.Series(g_owner).groupby(g_owner).cumcount().to_numpy()
    # a per-owner random offset into the list, then consecutive names
    owners, owner_idx = np.unique(g_owner, return_inverse=True)
    offset = rng.integers(0, 10_000, len(owners))[owner_idx]
    g_scat = g_owner < 0
    town_names = np.asarray(STREETS, dtype=object)
    rural_names = np.asarray(RURAL_STREETS, dtype=object)
    names = np.where(
        g_scat,
        rural_names[(offset + rank) % len(rural_names)],
        town_names[(offset + rank) % len(town_names)],
    )
    return names[group]
