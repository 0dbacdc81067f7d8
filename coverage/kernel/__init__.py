"""The point-in-polygon kernel: addresses x coverage polygons -> (point, polygon) index pairs.

- :mod:`.join`: ``points_in_polygons`` / ``iter_points_in_polygons`` (covered_by semantics:
  an address on an edge or vertex is covered), ``merge_pairs``;
- :mod:`.decompose`: polygons cut into horizontal strips and boundary pieces;
- :mod:`.boundary`: the ray test, the GEOS fallback near edges, the sorted-key search;
- :mod:`.emit`: the pairs written in their final order by compiled loops (numba);
- :mod:`.reduce`: per-point reductions (best offer, distinct counts) and the brute-force oracle.

Imports: numpy, shapely and numba only; of gapmap at most ``coverage.errors`` (an import-linter
contract in ``pyproject.toml``). It never opens files and returns arrays, never frames.
"""
