"""Map structure: layers, feature counts, bounds, legends, layer type by size, language,
escaping, offline assets, the PNG overview and the ``gapmap map`` command."""

from __future__ import annotations

import dataclasses
import io
from pathlib import Path

import folium
import numpy as np
import pytest
from folium.plugins import FastMarkerCluster

from coverage.errors import InputDataError, NotFoundError
from coverage.io.rundir import RunData, load_run
from maps import i18n
from maps.assets import Legend, PageInfo, cdn_references, make_offline
from maps.builders import build_run_map

SCALE = 0.05
WARSTEIN = "05974044"
HOSTILE = "<img src=x onerror=alert(1)>"
HOSTILE_ESCAPED = "&lt;img src=x onerror=alert(1)&gt;"


@pytest.fixture(scope="session")
def demo_run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A demo run at SCALE (about 19k addresses; Warstein about 440)."""
    from api.cli import main

    out = tmp_path_factory.mktemp("mapdemo")
    assert main(["demo", "--out", str(out), "--scale", str(SCALE)]) == 0
    return out / "run"


def with_hostile_names(run: RunData, n: int = 3) -> RunData:
    """The run with an HTML-injecting operator, street, Gemeinde and coverage operator."""
    a = run.addresses.copy()
    a.loc[a.index[:n], ["best_provider", "street"]] = HOSTILE
    b = run.boundaries.copy()
    b.loc[b.index[b["level"] == "gemeinde"][0], "name"] = HOSTILE
    cov = None
    if run.coverage is not None:
        cov = run.coverage.copy()
        cov.loc[cov.index[:50], "provider"] = HOSTILE
    return dataclasses.replace(run, addresses=a, boundaries=b, coverage=cov)


def overlays(m: folium.Map) -> dict[str, folium.FeatureGroup]:
    """Overlay FeatureGroups of a map by their (translated) name."""
    return {
        ch.layer_name: ch
        for ch in m._children.values()
        if isinstance(ch, folium.FeatureGroup) and ch.overlay and ch.control
    }


def content(group: folium.FeatureGroup) -> folium.GeoJson | FastMarkerCluster:
    (child,) = group._children.values()
    return child


def of_type(m: folium.Map, cls: type) -> list:
    return [ch for ch in m._children.values() if isinstance(ch, cls)]


@pytest.fixture(scope="session")
def region(demo_run_dir: Path) -> RunData:
    return load_run(demo_run_dir)


@pytest.fixture(scope="session")
def warstein(demo_run_dir: Path) -> RunData:
    return load_run(demo_run_dir, ags=WARSTEIN)


# --- reading runs -------------------------------------------------------------------------


def test_load_run_restricts_every_frame_to_the_ags(region: RunData, warstein: RunData) -> None:
    assert len(region.addresses) > 10_000
    assert set(warstein.addresses["ags"]) == {WARSTEIN}
    assert sorted(warstein.boundaries["ags"]) == ["05974", WARSTEIN]
    assert set(warstein.gap_areas["ags"]) <= {WARSTEIN}
    assert list(warstein.summary_gemeinde["ags"]) == [WARSTEIN]
    assert set(warstein.grid_100m["cell_id"]) <= set(warstein.addresses["cell_100m"])
    assert warstein.coverage is not None and 0 < len(warstein.coverage) < len(region.coverage)
    assert warstein.area_name == "Warstein"
    assert warstein.synthetic_note


def test_load_run_errors_name_the_problem(demo_run_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="does not exist"):
        load_run(tmp_path / "nope")
    with pytest.raises(InputDataError, match=r"run/ subdirectory.*missing .*addresses\.parquet"):
        load_run(demo_run_dir.parent)
    with pytest.raises(InputDataError, match="5-digit Kreis or 8-digit"):
        load_run(demo_run_dir, ags="5974")
    with pytest.raises(NotFoundError, match="not in this run"):
        load_run(demo_run_dir, ags="09162")


# --- the interactive map ------------------------------------------------------------------


def test_region_map_has_every_layer_and_control(region: RunData) -> None:
    m = build_run_map(region, lang="de")
    lab = i18n.labels("de")
    names = set(overlays(m))
    expected = {
        lab["eligible_share"],
        lab["rural_gap_share"],
        lab["kreis_outline"],
        lab["gap_areas"],
        lab["addresses"],
        lab["degurba"],
        lab["focal_points"],
    }
    assert expected <= names
    techs = set(region.coverage["technology"])
    assert {lab["coverage"].format(tech=i18n.tech_label(t, "de")) for t in techs} <= names
    for cls in (folium.LayerControl, Legend, PageInfo):
        assert len(of_type(m, cls)) == 1
    assert {type(ch).__name__ for ch in m._children.values()} >= {
        "Fullscreen",
        "Search",
        "OutlineMiniMap",
    }
    assert m.control_scale
    bases = [ch for ch in m._children.values() if getattr(ch, "overlay", True) is False]
    assert [b.layer_name for b in bases] == [lab["no_basemap"], lab["osm"]]


def test_feature_counts_and_values_match_the_run(region: RunData) -> None:
    lab = i18n.labels("de")
    groups = overlays(build_run_map(region))
    choro = content(groups[lab["eligible_share"]]).data
    n_gem = (region.boundaries["level"] == "gemeinde").sum()
    assert len(choro["features"]) == n_gem
    s = region.summary_gemeinde.set_index("ags")
    for f in choro["features"]:
        p = f["properties"]
        assert p["share"] == pytest.approx(
            s.loc[p["ags"], "eligible"] / s.loc[p["ags"], "addresses"], abs=1e-4
        )
    assert len(content(groups[lab["gap_areas"]]).data["features"]) == len(region.gap_areas)
    sites = region.addresses["site_type"].isin(["school", "hospital"]).sum()
    assert len(content(groups[lab["focal_points"]]).data["features"]) == sites


def test_address_layer_type_switches_by_size(region: RunData, warstein: RunData) -> None:
    lab = i18n.labels("de")
    small = content(overlays(build_run_map(warstein))[lab["addresses"]])
    assert isinstance(small, folium.GeoJson)
    assert {f["geometry"]["type"] for f in small.data["features"]} == {"Point"}
    assert len(small.data["features"]) == len(warstein.addresses)

    middle = content(overlays(build_run_map(region))[lab["addresses"]])
    assert isinstance(middle, FastMarkerCluster)
    assert len(middle.data) == len(region.addresses)

    m = build_run_map(region, marker_limit=100, cluster_limit=1_000)
    name = lab["grid_cells"].format(res="100 m")
    cells = content(overlays(m)[name])
    assert {f["geometry"]["type"] for f in cells.data["features"]} == {"Polygon"}
    assert len(cells.data["features"]) == len(region.grid_100m)


def test_map_bounds_fit_the_selection(region: RunData, warstein: RunData) -> None:
    for run in (region, warstein):
        m = build_run_map(run)
        (fit,) = [ch for ch in m._children.values() if type(ch).__name__ == "FitBounds"]
        (s, w), (n, e) = fit.bounds
        gem = run.boundaries[run.boundaries["level"] == "gemeinde"].to_crs("EPSG:4326")
        assert np.allclose([w, s, e, n], gem.total_bounds, atol=1e-4)
        pts = run.addresses.to_crs("EPSG:4326")
        assert (
            pts.geometry.x.between(w - 1e-3, e + 1e-3) & pts.geometry.y.between(s - 1e-3, n + 1e-3)
        ).all()
    assert build_run_map(region, ags=WARSTEIN)._children  # selecting inside the builder works too


def test_legend_has_an_entry_per_class_and_bin(warstein: RunData) -> None:
    m = build_run_map(warstein, lang="en")
    (legend,) = of_type(m, Legend)
    sections = {title: entries for _, title, entries in legend.sections}
    lab = i18n.labels("en")
    classes = warstein.profile["classes"]
    assert [e[1] for e in sections[lab["addresses"]]] == [
        i18n.class_label(c, "en") for c in classes
    ]
    assert len(sections[lab["eligible_share"]]) == 6
    assert sections[lab["eligible_share"]][-1][1] == "≥ 50%"


def test_labels_follow_the_language(warstein: RunData) -> None:
    de = set(overlays(build_run_map(warstein, lang="de")))
    en = set(overlays(build_run_map(warstein, lang="en")))
    assert "Förderfähige Adressen je Gemeinde" in de and "Eligible addresses per Gemeinde" in en
    assert not de & en - {"Eligible addresses per Gemeinde"}
    en_points = content(overlays(build_run_map(warstein, lang="en"))["Addresses by class"])
    assert en_points.data["popup_fields"] == [
        "Class", "best offer today", "best planned offer", "Households", "Reason",
    ]  # fmt: skip
    de_points = content(overlays(build_run_map(warstein, lang="de"))["Adressen nach Klasse"])
    assert de_points.data["popup_fields"][-1] == "Begründung"
    # the popup states the planned offer with its date and the reason in German (issue 21)
    planned = [
        f["properties"]["popup"] for f in de_points.data["features"]
        if f["properties"]["popup"][3] != "–"
    ]  # fmt: skip
    assert planned and all(" ab " in p[3] and "Mbit/s" in p[3] for p in planned)
    assert all(not p[5].startswith(("GIGABIT:", "BLACK", "GREY", "WHITE")) for p in planned)
    assert all("/" in p[2] for p in planned if p[2] != "–")  # upload shown
    with pytest.raises(ValueError, match="unknown language"):
        build_run_map(warstein, lang="fr")


def test_hostile_names_are_escaped_everywhere(warstein: RunData, region: RunData) -> None:
    lab = i18n.labels("de")
    m = build_run_map(with_hostile_names(warstein))
    groups = overlays(m)
    popups = [f["properties"]["popup"] for f in content(groups[lab["addresses"]]).data["features"]]
    hit = [p for p in popups if HOSTILE_ESCAPED in p[2]]
    assert len(hit) == 3 and HOSTILE_ESCAPED in hit[0][0]  # operator and street
    assert not any(HOSTILE in item for p in popups for item in p)
    choro = content(groups[lab["eligible_share"]]).data["features"]
    assert choro[0]["properties"]["label"] == HOSTILE_ESCAPED
    assert choro[0]["properties"]["popup"][0] == HOSTILE_ESCAPED
    (info,) = of_type(m, PageInfo)
    assert HOSTILE_ESCAPED in info.title_html and HOSTILE not in info.title_html
    coverage_props = [
        f["properties"]
        for name, g in groups.items()
        if name.startswith("Versorgung")
        for f in content(g).data["features"]
    ]
    assert any(p["provider"] == HOSTILE_ESCAPED for p in coverage_props)
    assert not any(HOSTILE in str(p) for p in coverage_props)

    cluster = content(overlays(build_run_map(with_hostile_names(region)))[lab["addresses"]])
    # lookups are embedded as script-safe JSON: the escaped '&' itself appears as \u0026
    assert HOSTILE_ESCAPED.replace("&", "\\u0026") in cluster.callback
    assert HOSTILE not in cluster.callback
    assert any(row[3].startswith(HOSTILE_ESCAPED) for row in cluster.data)
    html = m.get_root().render()
    assert HOSTILE not in html


def test_page_is_self_contained(warstein: RunData) -> None:
    html = build_run_map(warstein).get_root().render()
    assert cdn_references(html) == []
    assert "L.Control.MiniMap" in html and "L.Control.Search" in html and "FullScreen" in html
    assert "GeoBasis-DE / BKG" in html and "GeoNames" in html
    assert "Synthetische Demodaten" in html and "SYNTHETIC demo data" not in html  # German page
    m = folium.Map(tiles=None)
    folium.plugins.Draw().add_to(m)
    with pytest.raises(ValueError, match="not vendored"):
        make_offline(m.get_root())


# --- PNG overview and command --------------------------------------------------------------


def test_png_overview_is_a_real_picture(demo_run_dir: Path) -> None:
    from PIL import Image

    from maps.overview import render_overview_png

    data = render_overview_png(load_run(demo_run_dir), ags="05974", lang="en")
    img = np.asarray(Image.open(io.BytesIO(data)).convert("L"), dtype=float)
    assert img.shape[0] > 800 and img.shape[1] > 1200
    assert img.std() > 20  # not blank


def test_map_command_and_demo_maps(demo_run_dir: Path, tmp_path: Path) -> None:
    import api.cli.maps
    from api.cli import main

    out = tmp_path / "w.html"
    assert (
        main(["map", str(demo_run_dir), "--ags", WARSTEIN, "--out", str(out), "--lang", "en"]) == 0
    )
    assert out.stat().st_size > 100_000 and cdn_references(out.read_text(encoding="utf-8")) == []
    png = tmp_path / "k.png"
    assert main(["map", str(demo_run_dir), "--ags", "05974", "--out", str(png), "--png"]) == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert main(["map", str(demo_run_dir), "--ags", "09999"]) == 2
    assert main(["map", str(tmp_path / "missing")]) == 2
    written = api.cli.maps.write_demo_maps(demo_run_dir)
    assert [p.name for p in written] == ["map.html", f"map_{WARSTEIN}.html"]
    assert all(p.parent == demo_run_dir.parent and p.stat().st_size > 0 for p in written)


def test_suppressed_cells_say_why_they_are_hidden() -> None:
    """Issue 21: a cell with 1,950 addresses is not 'fewer than 3'; only its split is hidden."""
    import pandas as pd

    grid = pd.DataFrame(
        {
            "cell_id": ["CRS3035RES1000mN3000000E4000000", "CRS3035RES1000mN3001000E4000000"],
            "x_ll": [4000000, 4000000],
            "y_ll": [3000000, 3001000],
            "addresses": pd.array([pd.NA, 1950], dtype="Int64"),
            "addresses_white": pd.array([pd.NA, pd.NA], dtype="Int64"),
            "addresses_gigabit": pd.array([pd.NA, pd.NA], dtype="Int64"),
            "share_eligible": [None, None],
            "suppressed": [True, True],
        }
    )
    from maps import layers

    data = layers.grid_cells(grid, 1000, ["gigabit", "white"], "de")
    small, large = (f["properties"]["popup"] for f in data["features"])
    assert small[1] == "ausgeblendet: weniger als 3 Adressen in der Zelle"
    assert large[1] == "1.950" and large[2].startswith("Aufteilung nach Klassen ausgeblendet")
