"""The dense coverage profile as a `gapmap run` coverage file, over any set of addresses.

Used by the end-to-end benchmark to run the demo's ~5M addresses against coverage as dense
as the measured realistic set (see ``kernel_data.DENSE_TARGET``)::

    from dense_coverage import write_dense_coverage       # bench/ on sys.path
    demo = write_demo_inputs(data, scale=13.2)             # addresses.parquet etc.
    stats = write_dense_coverage(
        data / "coverage_dense.parquet", data / "addresses.parquet", as_of=demo.as_of
    )
    print(format_stats("dense (demo addresses)", stats))   # from kernel_data
    # then LayerSpec(data / "coverage_dense.parquet") as the run's coverage layer

The polygons are :func:`kernel_data.make_dense_polygons` placed on the given addresses and
scaled until a sample of them has ~32 covering polygons per address; the attributes are
canonical offer columns (``coverage.schema.OFFER_COLUMNS``) of fictional "Demo" operators:
regional LTE/5G footprints, fixed-wireless sectors, and FTTH / DOCSIS 3.1 / VDSL / HFC /
ADSL build areas, gigabit ones (existing or planned within 30 months) reaching about 70 %
of the addresses, so about 30 % are eligible under de-gigabit as in the measured set.
"""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from kernel_data import (
    CRS,
    DENSE_GIGABIT_SHARE,
    DENSE_TARGET,
    dataset_stats,
    format_stats,
    make_dense_polygons,
)

from coverage.demo.build import DEMO_AS_OF
from coverage.io.writers import write_parquet
from coverage.kernel.join import points_in_polygons
from coverage.schema import LOW_LATENCY_MS, OFFER_COLUMNS

__all__ = ["dense_offers", "read_address_xy", "write_dense_coverage"]


def read_address_xy(addresses: Path) -> tuple[np.ndarray, np.ndarray]:
    """x, y (EPSG:25832) of the points of a GeoParquet address file (the demo's)."""
    table = pq.read_table(addresses, columns=["geometry"])
    xy = shapely.get_coordinates(shapely.from_wkb(table.column("geometry").to_numpy()))
    return xy[:, 0].copy(), xy[:, 1].copy()


def write_dense_coverage(
    path: Path,
    addresses: Path,
    *,
    as_of: date = DEMO_AS_OF,
    n_polygons: int = DENSE_TARGET["polygons"],
    seed: int = 1,
    stats_sample: int = 500_000,
) -> dict:
    """Write dense coverage over the addresses of ``addresses`` as GeoParquet to ``path``.

    Parameters
    ----------
    path : Path
        The coverage file to write (GeoParquet, EPSG:25832, canonical offer columns),
        atomically; read by ``gapmap run`` as a coverage layer.
    addresses : Path
        GeoParquet address points in EPSG:25832 (``addresses.parquet`` of the demo).
    as_of : date
        The run's reference date; planned offers are available 1-30 months after it.
    n_polygons, seed : int
        Number of polygons (20,000 as measured) and the random seed (deterministic).
    stats_sample : int
        Addresses sampled for the returned statistics (the whole set when smaller).

    Returns
    -------
    dict
        :func:`kernel_data.dataset_stats` of the sample, with ``pairs`` scaled to all
        addresses, plus ``gigabit_share`` (addresses of the sample covered by a gigabit
        offer) and ``sampled``; print it with :func:`kernel_data.format_stats`.
    """
    x, y = read_address_xy(addresses)
    polys, plan = make_dense_polygons(x, y, n_polygons, seed)
    rng = np.random.default_rng(seed + 21)
    pick = rng.choice(len(x), min(stats_sample, len(x)), replace=False)
    pick.sort()
    p, q = points_in_polygons(x[pick], y[pick], polys)
    offers = dense_offers(plan, p, q, len(pick), as_of, seed)
    frame = gpd.GeoDataFrame(offers, geometry=polys, crs=CRS)
    write_parquet(frame, path)
    counts = np.bincount(p, minlength=len(pick))
    stats = dataset_stats(x[pick], y[pick], polys, counts)
    gigabit = offers["technology"].isin(["ftth", "hfc_docsis31"]).to_numpy()
    served = np.zeros(len(pick), bool)
    served[p[gigabit[q]]] = True
    stats.update(
        addresses=len(x),
        sampled=len(pick),
        pairs=round(stats["pairs_mean"] * len(x)),
        gigabit_share=float(served.mean()),
    )
    return stats


def dense_offers(
    plan: dict, p: np.ndarray, q: np.ndarray, n_sample: int, as_of: date, seed: int = 1
) -> pd.DataFrame:
    """Canonical offer rows for the polygons of a dense plan (one row each).

    Regional footprints are LTE/5G, sectors fixed wireless; build areas (footprints, rings,
    multipolygons) are gigabit (FTTH, DOCSIS 3.1, planned FTTH) in some 2 km cells and
    VDSL/HFC/ADSL elsewhere. Which cells are gigabit is a threshold on a random number per
    cell, chosen from the sample pairs ``(p, q)`` (``n_sample`` addresses) so that
    :data:`kernel_data.DENSE_GIGABIT_SHARE` of the sample is covered by a gigabit offer.
    """
    rng = np.random.default_rng(seed + 22)
    kinds, centres = plan["kinds"], plan["centres"]
    m = len(kinds)
    cell = np.floor(centres[:, 0] / 2000).astype(np.int64) * 100_000 + np.floor(
        centres[:, 1] / 2000
    ).astype(np.int64)
    _, inverse = np.unique(cell, return_inverse=True)
    u = rng.random(inverse.max() + 1)[inverse]
    wired = np.isin(kinds, ["footprint", "ring", "multi"])
    u = np.where(wired, u, np.inf)
    # per address the smallest u among its wired polygons; the share-quantile of those
    best = np.full(n_sample, np.inf)
    np.minimum.at(best, p, u[q])
    threshold = float(np.quantile(best, DENSE_GIGABIT_SHARE))
    gig = wired & (u <= threshold)

    tech = np.empty(m, dtype=object)
    provider = np.empty(m, dtype=object)
    down, up, latency = np.empty(m), np.empty(m), np.empty(m)
    planned = np.zeros(m, bool)

    def assign(sel: np.ndarray, options: list[tuple[str, str, float, float, float]]) -> None:
        which = rng.integers(0, len(options), len(sel))
        for k, (t, prov, d, u_, lat) in enumerate(options):
            s = sel[which == k]
            tech[s], provider[s], down[s], up[s], latency[s] = t, prov, d, u_, lat

    assign(
        np.flatnonzero(kinds == "region"),
        [
            ("mobile_lte", "Demo Mobil A", 50.0, 10.0, 35.0),
            ("mobile_5g", "Demo Mobil B", 300.0, 50.0, 25.0),
            ("mobile_lte", "Demo Mobil C", 100.0, 20.0, 35.0),
        ],
    )
    assign(np.flatnonzero(kinds == "wedge"), [("fwa_licensed", "Demo Funk", 100.0, 20.0, 20.0)])
    g = np.flatnonzero(gig)
    assign(
        g,
        [
            ("ftth", "Demo Glasfaser", 1000.0, 500.0, 8.0),
            ("ftth", "Demo Stadtwerke", 1000.0, 1000.0, 8.0),
            ("hfc_docsis31", "Demo Kabel", 1000.0, 50.0, 15.0),
        ],
    )
    planned[g] = rng.random(len(g)) < 0.1
    assign(
        np.flatnonzero(wired & ~gig),
        [
            ("vdsl", "Demo Telekom", 250.0, 40.0, 15.0),
            ("vdsl", "Demo Telekabel", 100.0, 40.0, 15.0),
            ("vdsl", "Demo Telekom", 50.0, 10.0, 20.0),
            ("hfc", "Demo Kabel", 250.0, 25.0, 15.0),
            ("adsl", "Demo Telekom", 16.0, 2.0, 30.0),
        ],
    )
    start = np.datetime64(as_of.isoformat(), "D")
    available = np.where(
        planned,
        start + rng.integers(30, 900, m).astype("timedelta64[D]"),
        np.datetime64("NaT"),
    ).astype("datetime64[ms]")
    frame = pd.DataFrame(
        {
            "provider": provider,
            "technology": tech,
            "down_mbps": down,
            "up_mbps": up,
            "latency_ms": latency,
            "low_latency": latency <= LOW_LATENCY_MS,
            "status": np.where(planned, "planned", "existing"),
            "available_from": available,
            "source": "bench dense synthetic",
            "as_of": pd.Timestamp(as_of),
        }
    )
    return frame.astype(dict(OFFER_COLUMNS))


def main() -> int:
    """``python bench/dense_coverage.py ADDRESSES.parquet OUT.parquet``: write and print."""
    addresses, out = Path(sys.argv[1]), Path(sys.argv[2])
    stats = write_dense_coverage(out, addresses)
    print(format_stats("dense (over " + addresses.name + ")", stats))
    print(f"addresses covered by a gigabit offer: {stats['gigabit_share']:.1%} (sample)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
