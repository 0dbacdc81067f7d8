"""Cost sets and cost ranges: published figures, escalation, the published example check."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from coverage.costs import CIVIL_CLASSES, load_costs
from coverage.errors import NotFoundError, ProfileError
from coverage.rural.costs import area_costs, screening_score

SIMPLE = """
[set]
id = "test"
region = "de"
title = "round numbers"
currency = "EUR"
price_basis = "net"
index_year = 2024
[escalation]
rate = 0.1
year = 2024
source = "test"
[routing_factor]
low = 1.0
central = 1.5
high = 2.0
unit = "x"
year = 2024
source = "test"
note = "test"
[civil.paved]
share = 0.5
share_source = "test"
low = 100.0
central = 100.0
high = 200.0
unit = "EUR/m"
year = 2023
source = "test"
[civil.unpaved]
share = 0.5
share_source = "test"
low = 0.0
central = 100.0
high = 200.0
unit = "EUR/m"
year = 2024
source = "test"
[connection]
low = 1000.0
central = 1000.0
high = 1000.0
unit = "EUR/connection"
year = 2024
source = "test"
[other_share]
low = 0.0
central = 0.5
high = 0.5
unit = "share"
year = 2024
source = "test"
[private_threshold]
value = 2000.0
unit = "EUR/home passed"
year = 2023
source = "test"
[minimum_area]
min_addresses = 3
min_source = "test"
max_per_connection = 0.0
max_source = "test"
[link]
technologies = ["ftth"]
source = "test"
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "costs.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("region", ["de", "us", "uk"])
def test_bundled_sets_have_a_source_and_year_for_every_value(region: str) -> None:
    cs = load_costs(region)
    assert cs.region == region and cs.currency == {"de": "EUR", "us": "USD", "uk": "GBP"}[region]
    rows = cs.sources()
    assert {r["item"] for r in rows} >= {"routing_factor", "connection", "other_share"}
    for r in rows:
        assert r["source"].strip() and r["low"] <= r["central"] <= r["high"], r
    assert all(c.name in CIVIL_CLASSES for c in cs.civil)
    assert sum(c.share for c in cs.civil) == pytest.approx(1.0)
    assert cs.routing_factor.low >= 1.0 and cs.index_year >= 2024
    low, central, high = cs.blended_rate()
    assert 0 < low < central < high
    assert set(cs.link_technologies) == {"ftth", "fttb", "hfc_docsis31"}


def test_us_set_prices_aerial_in_dollars_per_metre_from_the_fba_figures() -> None:
    us = load_costs("us")
    aerial = {c.name: c for c in us.civil}["aerial"].rate
    # FBA / Cartesian 2023: aerial median 6.49 USD per foot = 21.29 USD per metre
    assert aerial.central == pytest.approx(6.49 / 0.3048, abs=0.01)
    assert aerial.unit == "USD/m" and aerial.year == 2023
    assert "existing_duct" not in {c.name for c in us.civil}


def test_formula_escalation_and_ranges_by_hand(tmp_path: Path) -> None:
    cs = load_costs(_write(tmp_path, SIMPLE))
    # paved 2023 prices escalate by 10 % to 2024: low 0.5 x 110 + 0.5 x 0 = 55,
    # central 0.5 x 110 + 0.5 x 100 = 105, high 0.5 x 220 + 0.5 x 200 = 210 per metre
    assert cs.blended_rate() == pytest.approx((55.0, 105.0, 210.0))
    c = area_costs([300.0], [100.0], [4], cs).iloc[0]
    # 400 m straight line; low: x1.0 x 55 / (1 - 0) + 4 x 1000
    assert c.cost_low == pytest.approx(400 * 55 + 4000)
    # central: 600 m x 105 / 0.5 + 4000; high: 800 m x 210 / 0.5 + 4000
    assert c.cost_central == pytest.approx(600 * 105 / 0.5 + 4000)
    assert c.cost_high == pytest.approx(800 * 210 / 0.5 + 4000)
    assert c.route_m == pytest.approx(600.0)
    assert c.per_connection_central == pytest.approx((600 * 105 / 0.5 + 4000) / 4)
    assert c.per_home_passed_central == pytest.approx(600 * 105 / 0.5 / 4)
    routed = area_costs([300.0], [100.0], [4], cs, routed=True).iloc[0]
    assert routed.cost_high == pytest.approx(400 * 210 / 0.5 + 4000)


def test_private_threshold_is_per_home_passed_not_per_connection(tmp_path: Path) -> None:
    """MICUS' EUR 2,000 is per home passed (issue 25): an area at EUR 2,900 per connection
    but EUR 1,900 per home passed stays below it."""
    cs = load_costs(_write(tmp_path, SIMPLE))
    # per home passed (central) = 1.5 x L x 105 / 0.5 / n = 1,900 with n = 1
    straight = 1900 * 0.5 / 105 / 1.5
    c = area_costs([straight], [0.0], [1], cs).iloc[0]
    assert c.per_connection_central == pytest.approx(2900.0)
    assert c.per_home_passed_central == pytest.approx(1900.0)
    assert not c.above_private_threshold
    assert area_costs([2 * straight], [0.0], [1], cs).iloc[0].above_private_threshold


def test_published_example_landkreis_osnabrueck_lies_within_the_range() -> None:
    """Landkreis Osnabrück, white-spot programme: about 20,000 addresses, a new fibre network
    of about 3,000 km, investment about 269 Mio EUR, i.e. 13,450 EUR per address (Beschluss-
    vorlage FB 1/028/2023, 'Strategie zum Breitbandausbau im Landkreis Osnabrück',
    fuerstenauris.itebo.de vo0050 kvonr 6443). The published route is already a route, so the
    routing factor is not applied; the DE set's range must hold the published figure."""
    de = load_costs("de")
    c = area_costs([3_000_000.0], [0.0], [20_000], de, routed=True).iloc[0]
    assert c.per_connection_low < 269e6 / 20_000 < c.per_connection_high
    assert c.cost_low < 269e6 < c.cost_high


def test_isolated_site_figure_lies_within_the_range() -> None:
    """One isolated address 150 m (straight line) from the network: 15-20 kEUR per isolated
    site (hausjournal.net, domain.md 6) lies within the DE range."""
    c = area_costs([0.0], [150.0], [1], load_costs("de")).iloc[0]
    assert c.per_connection_low < 15_000 and c.per_connection_high > 20_000


def test_bad_cost_files_name_the_file_and_key(tmp_path: Path) -> None:
    with pytest.raises(ProfileError, match=r"costs.toml: \[civil.\*\] shares sum to 0.9"):
        load_costs(_write(tmp_path, SIMPLE.replace("share = 0.5\nshare_source", "share = 0.4\nshare_source", 1)))  # fmt: skip
    with pytest.raises(ProfileError, match=r"\[connection\] needs low <= central <= high"):
        load_costs(_write(tmp_path, SIMPLE.replace("low = 1000.0", "low = 5000.0")))
    with pytest.raises(ProfileError, match=r"\[civil.tunnel\] is not a civil-works class"):
        load_costs(_write(tmp_path, SIMPLE.replace("[civil.unpaved]", "[civil.tunnel]")))
    with pytest.raises(ProfileError, match=r"\[routing_factor\] low must be >= 1"):
        load_costs(_write(tmp_path, SIMPLE.replace("low = 1.0\ncentral = 1.5", "low = 0.9\ncentral = 1.5")))  # fmt: skip
    with pytest.raises(NotFoundError, match="bundled: de, uk, us"):
        load_costs("fr")


def test_screening_score_formula() -> None:
    # an area at the reference cost earns half the 25 cost points
    assert screening_score([1.0], [1.0], [8700.0], [0], reference=8700.0).tolist() == [72.5]
    assert screening_score([np.nan], [0.5], [np.nan], [0]).tolist() == pytest.approx([12.5])
    # the size part: full points from 100 addresses on
    assert screening_score([1.0], [1.0], [0.0], [100], reference=1.0).tolist() == [100.0]
    # default reference: the median cost of the areas scored together
    s = screening_score([0, 0, 0], [0, 0, 0], [1000.0, 2000.0, 4000.0], [0, 0, 0])
    assert s.tolist() == pytest.approx([25 * 2 / 3, 12.5, 25 * 2 / 6])
