"""Non-members cut out of gap-area polygons (see :mod:`coverage.rural.area_shape` for why).

Every address inside an area's polygon that is not a member of that area gets a disc cut out
(a regular 16-gon inside the circle of its radius). The radius is ``cut_m`` (5 m) or less:

* never more than 0.45 x its distance to the nearest member of the area, so no member is
  ever cut out (below 1 mm: not cut, counted as ``other_addresses_inside``);
* never more than 0.45 x its distance to the nearest other non-member location inside the
  same area (but at least 1 mm), so the cuts of two neighbours never meet: a row of
  houses 6 m apart gets 2.7 m cuts around each house instead of one merged cut-out.
  Addresses at the same coordinates share one cut.

Why the second rule: with merged cut-outs a town of served houses inside a large area became
one overlay of hundreds of thousands of discs; separate discs are interior rings of the
polygon and need no overlay at all. Either way a GIS selection by polygon gives exactly the
area's members.

Method, per area, without an overlay of the whole polygon where none is needed:

* a disc lying in the interior of the polygon (``contains_properly``, on the prepared
  polygon: off its boundary and off its existing holes) is added to the polygon part around
  it as one more interior ring, with no overlay;
* only the discs meeting the polygon's boundary are taken off, by one ``difference`` with
  their multipolygon (they are disjoint); discs whose circles still meet (non-members less
  than 2.2 mm apart) are united per group of meeting circles first.

The result covers the same points as ``difference(polygon, union_all(discs))``. It depends
only on the area's polygon, its non-members (in address order) and their radii, so an area
comes out the same in whichever task (:mod:`coverage.rural.partition`) it is cut.
"""

from __future__ import annotations

from concurrent.futures import Executor

import numpy as np
import numpy.typing as npt
import shapely
from scipy import sparse
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from coverage.kernel.join import points_in_polygons
from coverage.rural import partition

#: A cut never reaches further than this share of the distance to the nearest member.
CUT_SHARE = 0.45
QUAD_SEGS = 4
#: Cuts smaller than this (metres) are below the coordinates' precision: not cut, counted.
MIN_CUT_M = 1e-3
#: Circles closer than this (metres) count as meeting: their discs are united.
_MEET_M = 1e-3
#: A disc this much (metres) farther from the polygon's boundary than its radius lies in
#: its interior (rounding of coordinates near 5e6 m is ~1e-9 m).
_NEAR_M = 1e-6


def cut_non_members(
    geoms: npt.NDArray[np.object_],
    area_of: npt.NDArray[np.int64],
    x: npt.NDArray[np.float64],
    y: npt.NDArray[np.float64],
    cut_m: float,
    *,
    executor: Executor | None = None,
    partition_points: int | None = None,
) -> tuple[npt.NDArray[np.object_], npt.NDArray[np.int64]]:
    """Each polygon with its non-members cut out, and per polygon the uncuttable count.

    Without an executor one task does all areas; with one, the areas go out in batches by
    position (:func:`coverage.rural.partition.area_batches`), each with the addresses in
    its areas' boxes widened by the reach of a cut, which are all it needs.
    """
    out, left = geoms.copy(), np.zeros(geoms.size, dtype=np.int64)
    if geoms.size == 0:
        return out, left
    if executor is None:
        jobs = [(geoms, np.arange(geoms.size), x, y, area_of, cut_m)]
        batches, sizes = [np.arange(geoms.size)], None
    else:
        bounds = shapely.bounds(geoms)
        batches = partition.area_batches(bounds, x, partition_points)
        reach = cut_m / CUT_SHARE
        jobs, sizes = [], []
        for batch in batches:
            lo = bounds[batch, :2].min(axis=0) - reach
            hi = bounds[batch, 2:].max(axis=0) + reach
            sel = np.flatnonzero((x >= lo[0]) & (x <= hi[0]) & (y >= lo[1]) & (y <= hi[1]))
            jobs.append((geoms[batch], batch, x[sel], y[sel], area_of[sel], cut_m))
            sizes.append(sel.size)
    done = partition.run(executor, cut_batch, jobs, sizes)
    for batch, (cut, n_left) in zip(batches, done, strict=True):
        out[batch], left[batch] = cut, n_left
    return out, left


def cut_batch(
    geoms: npt.NDArray[np.object_],
    ids: npt.NDArray[np.intp],
    x: npt.NDArray[np.float64],
    y: npt.NDArray[np.float64],
    area_of: npt.NDArray[np.int64],
    cut_m: float,
) -> tuple[npt.NDArray[np.object_], npt.NDArray[np.int64]]:
    """The polygons ``geoms`` (areas ``ids``) cut, given the addresses around them.

    ``x, y, area_of`` hold (in address order) every address inside the polygons and every
    member within reach of one; ``area_of`` names areas by their ids.
    """
    # the kernel (covered_by, the same as intersects for points; non-finite points match
    # nothing): no Point objects, and fast where a tree query over millions of points is not
    pt_i, poly_i = points_in_polygons(x, y, geoms)
    pt_i, poly_i = pt_i.astype(np.intp), poly_i.astype(np.intp)
    foreign = area_of[pt_i] != ids[poly_i]
    pt_i, poly_i = pt_i[foreign], poly_i[foreign]
    out, left = geoms.copy(), np.zeros(geoms.size, dtype=np.int64)
    if pt_i.size == 0:
        return out, left
    # addresses at one spot of one area share their cut: the first in address order stands
    # for them (pt_i is in address order)
    first, inv = _first_per_spot(poly_i, x[pt_i], y[pt_i])
    radius = cut_radius(pt_i[first], ids[poly_i[first]], area_of, x, y, cut_m)[inv]
    cuttable = radius >= MIN_CUT_M
    np.add.at(left, poly_i[~cuttable], 1)
    keep = np.zeros(pt_i.size, dtype=bool)
    keep[first] = True
    keep &= cuttable
    pt_i, poly_i, radius = pt_i[keep], poly_i[keep], radius[keep]
    order = np.argsort(poly_i, kind="stable")  # per area, in address order
    pt_i, poly_i, radius = pt_i[order], poly_i[order], radius[order]
    bounds = np.searchsorted(poly_i, np.arange(geoms.size + 1))
    for a in np.unique(poly_i):
        rows = slice(bounds[a], bounds[a + 1])
        out[a] = cut_area(geoms[a], x[pt_i[rows]], y[pt_i[rows]], radius[rows])
    return out, left


def _first_per_spot(
    area: npt.NDArray[np.intp], px: npt.NDArray[np.float64], py: npt.NDArray[np.float64]
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    """Rows that are the first of their (area, x, y), and each row's first row."""
    order = np.lexsort((py, px, area))
    a, xo, yo = area[order], px[order], py[order]
    new = np.ones(order.size, dtype=bool)
    new[1:] = (a[1:] != a[:-1]) | (xo[1:] != xo[:-1]) | (yo[1:] != yo[:-1])
    group = np.cumsum(new) - 1
    head = np.full(int(new.sum()), order.size, dtype=np.intp)
    np.minimum.at(head, group, order)  # the smallest row (first in address order) per spot
    rows = np.sort(head)
    inv = np.empty(order.size, dtype=np.intp)
    inv[order] = np.searchsorted(rows, head[group])
    return rows, inv


def cut_radius(
    pt_i: npt.NDArray[np.intp],
    area: npt.NDArray[np.intp],
    area_of: npt.NDArray[np.int64],
    x: npt.NDArray[np.float64],
    y: npt.NDArray[np.float64],
    cut_m: float,
) -> npt.NDArray[np.float64]:
    """Per (non-member, area) pair, each spot once: the cut radius, at most ``cut_m``.

    Below 0.45 x the distance to the area's nearest member (so the cut disc, a polygon
    inside its circle, never reaches a member; 0 when a member has the same coordinates)
    and below 0.45 x the distance to the nearest other pair of the same area, but not
    below ``MIN_CUT_M`` for that reason (so two cuts never meet, and neighbours are still
    cut).
    """
    radius = np.full(pt_i.size, cut_m)
    reach = cut_m / CUT_SHARE
    px, py = x[pt_i], y[pt_i]
    pairs = cKDTree(np.column_stack([px, py])).query_pairs(reach, output_type="ndarray")
    i, j = pairs[:, 0], pairs[:, 1]
    same = area[i] == area[j]
    i, j = i[same], j[same]
    gap = np.hypot(px[i] - px[j], py[i] - py[j])
    apart = np.full(pt_i.size, np.inf)
    np.minimum.at(apart, i, gap)
    np.minimum.at(apart, j, gap)
    radius = np.minimum(radius, np.maximum(CUT_SHARE * apart, MIN_CUT_M))
    members = np.flatnonzero((area_of >= 0) & np.isfinite(x) & np.isfinite(y))
    if not members.size:
        return radius
    near = cKDTree(np.column_stack([px, py])).sparse_distance_matrix(
        cKDTree(np.column_stack([x[members], y[members]])), reach, p=2.0,
        output_type="ndarray",
    )  # fmt: skip
    k, m = near["i"].astype(np.intp), members[near["j"]]
    own = area_of[m] == area[k]
    k, m = k[own], m[own]
    d = np.full(pt_i.size, np.inf)
    # the distance again as in one subtraction per pair (the tree's sum may round otherwise)
    np.minimum.at(d, k, np.hypot(x[m] - x[pt_i[k]], y[m] - y[pt_i[k]]))
    return np.minimum(radius, CUT_SHARE * d)


def cut_area(
    geom: shapely.Geometry,
    px: npt.NDArray[np.float64],
    py: npt.NDArray[np.float64],
    radius: npt.NDArray[np.float64],
) -> shapely.Geometry:
    """``geom`` minus the discs of ``radius`` around ``(px, py)`` (see the module docstring).

    The centres ``(px, py)`` lie in ``geom`` (on its boundary at most).
    """
    rings_xy = disc_rings(px, py, radius)
    group, first = _meeting_groups(px, py, radius)
    sizes = np.bincount(group)
    alone = sizes == 1
    n_holes = sizes.size
    holes = np.empty(n_holes, dtype=object)  # polygons of the holes, where needed
    inner = np.zeros(n_holes, dtype=bool)
    # a lone disc around a centre in the polygon lies in its interior when the polygon's
    # boundary (shell and holes) is farther from the centre than the disc's vertices
    edge = shapely.boundary(geom)
    shapely.prepare(edge)
    d = first[alone]
    inner[alone] = ~shapely.dwithin(edge, shapely.points(px[d], py[d]), radius[d] + _NEAR_M)
    if not alone.all():  # discs whose circles meet: united per group
        order = np.argsort(group, kind="stable")
        bounds = np.searchsorted(group[order], np.arange(n_holes + 1))
        shapely.prepare(geom)
        for g in np.flatnonzero(~alone):
            rows = order[bounds[g] : bounds[g + 1]]
            holes[g] = shapely.union_all(shapely.polygons(rings_xy[rows]))
            inner[g] = bool(
                shapely.get_type_id(holes[g]) == 3
                and shapely.get_num_interior_rings(holes[g]) == 0
                and shapely.contains_properly(geom, holes[g])
            )
    if not inner.all():
        outer = np.flatnonzero(~inner)
        lone = outer[alone[outer]]
        holes[lone] = shapely.polygons(rings_xy[first[lone]])
        cut = holes[outer]
        simple = shapely.get_type_id(cut) == 3
        # disjoint: a multipolygon of them is valid, no union needed
        cutter = shapely.multipolygons(cut) if simple.all() else shapely.union_all(cut)
        geom = polygonal(shapely.difference(geom, cutter))
    if not inner.any():
        return geom
    rings = np.empty(n_holes, dtype=object)
    lone = np.flatnonzero(inner & alone)
    rings[lone] = shapely.linearrings(rings_xy[first[lone]])
    merged = np.flatnonzero(inner & ~alone)
    rings[merged] = shapely.get_exterior_ring(holes[merged])
    rings = rings[inner]
    parts = shapely.get_parts(geom)
    if parts.size == 0:
        return geom
    if parts.size == 1:
        owner = np.zeros(rings.size, dtype=np.intp)
    else:  # the part around each hole holds its first disc's centre
        inside = points_in_polygons(px[first[inner]], py[first[inner]], parts)
        owner = np.zeros(rings.size, dtype=np.intp)
        owner[inside[0]] = inside[1]
    polys = []
    for p, part in enumerate(parts):
        new = rings[owner == p]
        if new.size:
            part = shapely.Polygon(part.exterior, [*part.interiors, *new])
        polys.append(part)
    return polys[0] if len(polys) == 1 else shapely.MultiPolygon(polys)


#: the unit 16-gon as GEOS buffers a point with quad_segs 4: from angle 0, clockwise, closed
_ANGLES = -np.arange(4 * QUAD_SEGS + 1) * (np.pi / (2 * QUAD_SEGS))
_UNIT = np.round(np.column_stack([np.cos(_ANGLES), np.sin(_ANGLES)]), 15)
_UNIT[-1] = _UNIT[0]


def disc_rings(
    px: npt.NDArray[np.float64], py: npt.NDArray[np.float64], radius: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    """Vertices (n, 17, 2) of the cut discs: regular 16-gons with their vertices on the
    circles of ``radius`` around ``(px, py)``, as ``shapely.buffer(point, r, quad_segs=4)``
    draws them (built directly: 5 to 10 times faster for hundreds of thousands)."""
    r = np.asarray(radius, dtype=float)[:, None]
    return np.stack([px[:, None] + r * _UNIT[:, 0], py[:, None] + r * _UNIT[:, 1]], axis=-1)


def discs_at(
    px: npt.NDArray[np.float64], py: npt.NDArray[np.float64], radius: npt.NDArray[np.float64]
) -> npt.NDArray[np.object_]:
    """The cut discs as polygons (:func:`disc_rings`)."""
    return shapely.polygons(disc_rings(px, py, radius))


def _meeting_groups(
    px: npt.NDArray[np.float64], py: npt.NDArray[np.float64], radius: npt.NDArray[np.float64]
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    """Per disc its group of meeting circles (groups numbered by their first disc), and
    each group's first disc."""
    n = px.size
    pairs = cKDTree(np.column_stack([px, py])).query_pairs(
        2 * float(radius.max()) + _MEET_M, output_type="ndarray"
    )
    i, j = pairs[:, 0], pairs[:, 1]
    meet = np.hypot(px[i] - px[j], py[i] - py[j]) <= radius[i] + radius[j] + _MEET_M
    if not meet.any():
        return np.arange(n), np.arange(n)
    _, group = connected_components(
        sparse.coo_matrix((np.ones(int(meet.sum())), (i[meet], j[meet])), shape=(n, n)),
        directed=False,
    )
    first = np.unique(group, return_index=True)[1]  # in order of their first disc
    renumber = np.empty(first.size, dtype=np.intp)
    renumber[group[first]] = np.arange(first.size)
    return renumber[group], first


def polygonal(geom: shapely.Geometry) -> shapely.Geometry:
    """Only the polygon parts of an overlay result (drops stray lines and points)."""
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    parts = [p for p in shapely.get_parts(geom) if p.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.union_all(parts) if parts else shapely.Polygon()
