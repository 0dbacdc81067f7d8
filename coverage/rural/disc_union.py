"""Gap-area polygons: the union of the discs around each area's addresses, computed from
the few discs that can reach the union's boundary.

:func:`area_polygons` gives one polygon per area; :func:`_disc_union` is exact up to GEOS
overlay rounding. A disc of vertex radius ``R`` with ``4 quad_segs`` sides holds the circle
of ``inner = R cos(pi / (4 quad_segs))``. Most discs of a dense area lie in the interior of
the union ``U``; the union of the rest, ``U'``, is far cheaper, and ``U`` follows from it:

* a disc is dropped when its boundary lies in the interior of ``U``; the disc itself then
  does too (:func:`_sieve`, in two passes, both erring only towards keeping; see
  :mod:`coverage.rural.disc_sieve`): on a raster over the area, a square is *covered* when
  its four corners lie within ``inner`` of one point, and a disc all of whose squares
  met by its circumcircle are covered is dropped (:func:`_boundary_discs`); each edge of
  the discs left is cut into pieces, and a disc is dropped when every piece has both ends
  within ``inner`` of one other point (the piece is then inside that point's disc).
* every boundary point of ``U`` lies in some disc, which cannot be a dropped one, so the
  boundary of ``U`` lies in ``U'`` (and ``U'`` lies in ``U``). Each connected piece of the
  complement of ``U'`` therefore misses the boundary of ``U`` and lies wholly inside ``U``
  or wholly outside it: one interior point of each piece decides (nearest point within
  ``inner``: inside; beyond ``R``: outside; otherwise the discs around it are asked). The
  pieces are the holes of ``U'`` minus the parts of ``U'`` nested in them; filling the
  inside ones gives ``U`` (:func:`_fill_holes`), nested true holes and islands included.

Discs are built from the offsets of their vertices (:func:`_offsets`: the coordinates
``shapely.buffer`` gives a point, bit for bit). On 1.65 million locations in the sieved
areas of a 5-million-address run the raster keeps one disc in sixteen (102,466), the edge
test two thirds of those (66,652).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from concurrent.futures import Executor, ThreadPoolExecutor
from typing import Protocol

import numpy as np
import numpy.typing as npt
import shapely
from scipy.spatial import cKDTree

from coverage.rural import disc_sieve, partition
from coverage.rural.linkage import usable_cpus

#: Disc unions run on up to this many threads once the multi-address areas hold this many
#: addresses (below it thread start-up costs more than it saves).
_UNION_THREADS = 4
_THREADED_UNION_POINTS = 20_000
#: Areas of this many distinct points drop the discs that cannot reach the union's boundary
#: before the union, judged on a raster of squares of radius / _CELLS_PER_RADIUS metres
#: (coarser when it would exceed _CELLS_PER_POINT squares a point or _MAX_CELLS squares).
_SIEVE_MIN_POINTS = 100
_CELLS_PER_RADIUS = 8.0
_CELLS_PER_POINT = 64
_MAX_CELLS = 25_000_000
#: Rounding allowance (metres) of the disc tests: coordinates near 5e6 m carry ~1e-9 m.
_EPS_M = 1e-6


class DiscShape(Protocol):
    """The disc drawn around each address (:class:`coverage.rural.gaps.GapParams` is one)."""

    @property
    def radius_m(self) -> float: ...

    @property
    def quad_segs(self) -> int: ...


def area_polygons(
    x: npt.NDArray[np.float64],
    y: npt.NDArray[np.float64],
    area: npt.NDArray[np.int64],
    n_areas: int,
    params: DiscShape,
    *,
    executor: Executor | None = None,
    partition_points: int | None = None,
    threads: bool = True,
) -> npt.NDArray[np.object_]:
    """Union of the discs around the distinct points ``(x, y)`` of each area (-1: none).

    A one-point area is its disc, any other :func:`_disc_union`. The work is mostly GEOS
    (shapely releases the GIL), so large jobs run on a few threads (unless ``threads`` is
    False), the largest areas first; every area gets the same polygon as serially.

    With an ``executor`` the areas of several points go out as tasks by position: with
    ``(x, y)`` sorted by x, an area belongs to the strip (of about ``partition_points``
    points) of its first point and is united there whole, from its points in their order.
    """
    geoms = np.empty(n_areas, dtype=object)
    if n_areas == 0:
        return geoms
    member = area >= 0
    x, y, area = x[member], y[member], area[member]
    order = np.argsort(area, kind="stable")
    bounds = np.searchsorted(area[order], np.arange(n_areas + 1))
    counts = np.diff(bounds)
    single = np.flatnonzero(counts == 1)
    first = order[bounds[single]]
    geoms[single] = _discs(x[first], y[first], params)
    multi = np.flatnonzero(counts > 1)
    if executor is not None:
        _union_tasks(x, y, order, bounds, multi, geoms, params, executor, partition_points)
        return geoms
    multi = multi[np.argsort(-counts[multi], kind="stable")]  # largest first

    def union(a: int) -> None:
        rows = order[bounds[a] : bounds[a + 1]]
        geoms[a] = _disc_union(np.column_stack([x[rows], y[rows]]), params)

    def union_many(areas: npt.NDArray[np.intp]) -> None:
        for a in areas:
            union(a)

    workers = min(_UNION_THREADS, usable_cpus(), max(len(multi), 1)) if threads else 1
    if workers < 2 or int(counts[multi].sum()) < _THREADED_UNION_POINTS:
        union_many(multi)
        return geoms
    # large areas one task each, the many small ones in a few batches
    large = multi[counts[multi] >= _SIEVE_MIN_POINTS]
    small = multi[counts[multi] < _SIEVE_MIN_POINTS]
    with ThreadPoolExecutor(workers) as pool:
        jobs = [pool.submit(union, int(a)) for a in large]
        jobs += [pool.submit(union_many, small[k :: 2 * workers]) for k in range(2 * workers)]
        for job in jobs:
            job.result()
    return geoms


def _union_tasks(
    x: npt.NDArray[np.float64],
    y: npt.NDArray[np.float64],
    order: npt.NDArray[np.intp],
    bounds: npt.NDArray[np.intp],
    multi: npt.NDArray[np.intp],
    geoms: npt.NDArray[np.object_],
    params: DiscShape,
    executor: Executor,
    partition_points: int | None,
) -> None:
    """The unions of the areas ``multi`` as tasks by strip, written into ``geoms``."""
    if not multi.size:
        return
    points = partition.UNION_POINTS if partition_points is None else max(partition_points, 1)
    strip = order[bounds[multi]] // points  # the strip of each area's first point
    jobs, batches, sizes = [], [], []
    for s in np.unique(strip):
        areas = multi[strip == s]
        rows = np.concatenate([order[bounds[a] : bounds[a + 1]] for a in areas])
        local = np.repeat(np.arange(areas.size), bounds[areas + 1] - bounds[areas])
        jobs.append((x[rows], y[rows], local, areas.size, params))
        batches.append(areas)
        sizes.append(rows.size)
    for areas, polys in zip(batches, partition.run(executor, union_task, jobs, sizes), strict=True):
        geoms[areas] = polys


def union_task(
    x: npt.NDArray[np.float64],
    y: npt.NDArray[np.float64],
    area: npt.NDArray[np.int64],
    n_areas: int,
    params: DiscShape,
) -> npt.NDArray[np.object_]:
    """:func:`area_polygons` of one task, on one thread."""
    return area_polygons(x, y, area, n_areas, params, threads=False)


def _offsets(params: DiscShape) -> npt.NDArray[np.float64]:
    """Vertex offsets of a disc: ``4 quad_segs`` vertices on the radius, clockwise from
    east, as GEOS buffers a point (the same coordinates, bit for bit)."""
    angle = -2.0 * np.pi * np.arange(4 * params.quad_segs) / (4 * params.quad_segs)
    offsets = np.column_stack([params.radius_m * np.cos(angle), params.radius_m * np.sin(angle)])
    offsets[np.abs(offsets) < 1e-9 * params.radius_m] = 0.0  # GEOS: exactly 0 on the axes
    return offsets


def _polygons(
    x: npt.NDArray[np.float64], y: npt.NDArray[np.float64], offsets: npt.NDArray[np.float64]
) -> npt.NDArray[np.object_]:
    """Per point, the polygon of its disc: the point plus each vertex offset, closed."""
    ring = np.concatenate([offsets, offsets[:1]])
    coords = np.empty((x.size, ring.shape[0], 2))
    np.add(x[:, None], ring[None, :, 0], out=coords[:, :, 0])
    np.add(y[:, None], ring[None, :, 1], out=coords[:, :, 1])
    return shapely.polygons(coords)


def _discs(
    x: npt.NDArray[np.float64], y: npt.NDArray[np.float64], params: DiscShape
) -> npt.NDArray[np.object_]:
    """The discs around the points (as ``shapely.buffer`` of the points draws them)."""
    return _polygons(x, y, _offsets(params))


def _disc_union(pts: npt.NDArray[np.float64], params: DiscShape) -> shapely.Geometry:
    """``union_all`` of the discs around distinct points, from the discs that can matter.

    Small sets, and discs too small for the sieve, take the plain union. Otherwise the
    union ``U'`` of the discs that :func:`_sieve` keeps has the boundary of the full union
    ``U`` inside it, and :func:`_fill_holes` fills the holes of ``U'`` that lie inside
    ``U`` (see the module docstring for why that is exact).
    """
    radius, quad_segs = params.radius_m, params.quad_segs
    # a regular 4 * quad_segs-gon with vertices on the radius holds the circle of ``inner``
    inner = radius * math.cos(math.pi / (4 * quad_segs))
    cell = radius / _CELLS_PER_RADIUS
    if pts.shape[0] < _SIEVE_MIN_POINTS or not inner > 2 * cell:
        return shapely.union_all(_discs(pts[:, 0], pts[:, 1], params))
    offsets = _offsets(params)
    keep = _sieve(pts, offsets, radius, inner, cell)
    partial = shapely.union_all(_polygons(pts[keep, 0], pts[keep, 1], offsets))
    if keep.all():
        return partial
    return _fill_holes(partial, _InUnion(pts, params, inner))


def _sieve(
    pts: npt.NDArray[np.float64],
    offsets: npt.NDArray[np.float64],
    radius: float,
    inner: float,
    cell: float,
) -> npt.NDArray[np.bool_]:
    """Mask of the points whose disc has an open edge (may reach the boundary of the union
    of all discs): a raster pass (:func:`_boundary_discs`), then the exact edge test
    (:func:`coverage.rural.disc_sieve.has_open_edge`) on the discs it keeps."""
    keep = _boundary_discs(pts, radius, inner, cell)
    cand = np.flatnonzero(keep)
    if cand.size < pts.shape[0]:
        keep[cand] = disc_sieve.has_open_edge(pts, cand, offsets, inner - _EPS_M)
    return keep


def _boundary_discs(
    pts: npt.NDArray[np.float64], radius: float, inner: float, cell: float
) -> npt.NDArray[np.bool_]:
    """Mask of the points whose disc may reach the boundary of the union of all discs.

    On a raster of ``cell``-metre squares: a square is *covered* when all four of its
    corners lie within ``inner`` of one point (the square is then inside that point's
    disc, in the interior of the union); a point is dropped when every square meeting the
    circle of ``radius`` around it is covered (its disc then lies in the interior of the
    union). Both tests are exact for the squares, with ``_EPS_M`` to spare, so the mask
    errs only towards keeping (:func:`coverage.rural.disc_sieve.raster_sieve`). The cell
    grows when the raster would exceed its budget.
    """
    n = pts.shape[0]
    keep_all = np.ones(n, dtype=bool)
    lo = pts.min(axis=0)
    span = pts.max(axis=0) - lo + 2 * radius
    cell = max(cell, math.sqrt(float(span[0] * span[1]) / min(_MAX_CELLS, _CELLS_PER_POINT * n)))
    if not inner > 2 * cell:
        return keep_all
    margin = math.ceil(radius / cell) + 2  # rows and columns beyond the reach of any disc
    origin = lo - margin * cell
    u = (pts[:, 0] - origin[0]) / cell  # coordinates in cells
    v = (pts[:, 1] - origin[1]) / cell
    row = v.astype(np.intp)
    shape = (int(row.max()) + margin + 1, int(u.max()) + margin + 1)
    order = np.argsort(row * shape[1] + u.astype(np.intp))  # raster order: local memory access
    u, v, row = u[order], v[order], row[order]
    inside = disc_sieve.raster_sieve(
        u, v, row, (inner - _EPS_M) / cell, (radius + _EPS_M) / cell, shape
    )
    keep = np.empty(n, dtype=bool)
    keep[order] = ~inside
    return keep


class _InUnion:
    """Whether points lie in the union of the discs around ``pts`` (never on its boundary)."""

    def __init__(self, pts: npt.NDArray[np.float64], params: DiscShape, inner: float) -> None:
        self.pts, self.params, self.inner = pts, params, inner
        self.tree = cKDTree(pts, balanced_tree=False, compact_nodes=False)

    def __call__(self, xy: npt.NDArray[np.float64]) -> npt.NDArray[np.bool_]:
        dist, _ = self.tree.query(xy)
        inside = dist <= self.inner - _EPS_M  # within the circle every disc holds
        unsure = np.flatnonzero(~inside & (dist <= self.params.radius_m + _EPS_M))
        if unsure.size:
            near = self.tree.query_ball_point(xy[unsure], self.params.radius_m + _EPS_M)
            for k, rows in zip(unsure, near, strict=True):
                discs = _discs(self.pts[rows, 0], self.pts[rows, 1], self.params)
                inside[k] = bool(shapely.intersects_xy(discs, xy[k, 0], xy[k, 1]).any())
        return inside


def _fill_holes(
    partial: shapely.Geometry,
    in_union: Callable[[npt.NDArray[np.float64]], npt.NDArray[np.bool_]],
) -> shapely.Geometry:
    """``partial`` with its holes that lie inside the full union filled.

    Each hole's ring bounds a connected piece of the complement of ``partial`` (minus any
    parts of ``partial`` nested in it), wholly inside or wholly outside the full union;
    one interior point of each piece decides. Filling a hole merges the parts nested in
    it into the part around it. Built from the rings as they are (no overlay), except in
    the rare case of a hole split by nested parts into pieces that disagree.
    """
    parts = shapely.get_parts(partial)
    n_holes = shapely.get_num_interior_rings(parts)
    if not n_holes.any():
        return partial
    owner = np.repeat(np.arange(parts.size), n_holes)
    ring_no = np.arange(owner.size) - np.repeat(np.cumsum(n_holes) - n_holes, n_holes)
    rings = shapely.get_interior_ring(parts[owner], ring_no)
    holes = shapely.polygons(rings)
    shells = shapely.get_exterior_ring(parts)
    # parts nested in holes: the innermost (smallest) hole around each part
    parent = np.full(parts.size, -1, dtype=np.intp)
    if parts.size > 1:
        hole_of, part_of = shapely.STRtree(shapely.point_on_surface(parts)).query(
            holes, predicate="contains"
        )
        by_size = np.lexsort((shapely.area(holes)[hole_of], part_of))
        part_of, hole_of = part_of[by_size], hole_of[by_size]
        innermost = np.ones(part_of.size, dtype=bool)  # first (smallest) hole per part
        innermost[1:] = part_of[1:] != part_of[:-1]
        parent[part_of[innermost]] = hole_of[innermost]
    nested = np.flatnonzero(parent >= 0)
    plain = np.ones(holes.size, dtype=bool)
    plain[parent[nested]] = False
    filled = np.zeros(holes.size, dtype=bool)
    filled[plain] = in_union(shapely.get_coordinates(shapely.point_on_surface(holes[plain])))
    pieces = []  # of holes with nested parts
    split = False
    for h in np.flatnonzero(~plain):
        kids = shapely.polygons(shells[nested[parent[nested] == h]])
        piece = shapely.get_parts(shapely.difference(holes[h], shapely.union_all(kids)))
        inside = in_union(shapely.get_coordinates(shapely.point_on_surface(piece)))
        filled[h] = bool(inside.all())
        split |= bool(inside.any()) and not filled[h]
        pieces.extend(piece[inside])
    if split:  # fill what is inside by overlay
        return shapely.union_all(np.concatenate([[partial], holes[plain & filled], pieces]))
    # a part nested in a filled hole joins the part around that hole
    root = np.arange(parts.size)
    absorbed = nested[filled[parent[nested]]]
    root[absorbed] = owner[parent[absorbed]]
    while not np.array_equal(root, root[root]):
        root = root[root]
    keep = np.flatnonzero(~filled)
    keep = keep[np.argsort(root[owner[keep]], kind="stable")]
    kept_by = np.searchsorted(root[owner[keep]], np.arange(parts.size + 1))
    out = [
        shapely.Polygon(shells[k], rings[keep[kept_by[k] : kept_by[k + 1]]])
        for k in np.flatnonzero(root == np.arange(parts.size))
    ]
    return out[0] if len(out) == 1 else shapely.MultiPolygon(out)
