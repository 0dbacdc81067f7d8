"""Operator address lists with messy spellings match the address layer; the rest is reported."""

from __future__ import annotations

import pandas as pd
import pytest

from coverage.matching import match_offers, normalise_street, parse_house_numbers

ADDRESSES = pd.DataFrame(
    {
        "address_id": ["A1", "A2", "A3", "A4", "A5", "A6", "A7", "A8", "A9"],
        "street": [
            "Hauptstraße",
            "Hauptstraße",
            "Hauptstraße",
            "Hauptstraße",
            "Am Mühlenbach",
            "Sankt-Georg-Platz",
            "Kirchweg",
            "Kirchweg",
            "Lange Straße",
        ],
        "house_number": ["12", "12", "13", "14", "3", "1", "7", "7", "5"],
        "suffix": [pd.NA, "a", pd.NA, pd.NA, pd.NA, pd.NA, pd.NA, pd.NA, pd.NA],
        "postcode": ["59581", "59581", "59581", "59581", "59581", "59581", "59581", "59581", pd.NA],
        "place": ["Warstein"] * 4 + ["Warstein", "Warstein", "Warstein", "Belecke", "Warstein"],
    }
)

# (street spelling, house number, expected address id) - 24 variants an operator might send
VARIANTS = [
    ("Hauptstraße", "12", "A1"),
    ("Hauptstrasse", "12", "A1"),
    ("Hauptstr.", "12", "A1"),
    ("Hauptstr", "12", "A1"),
    ("HAUPTSTRASSE", "12", "A1"),
    ("haupt straße", "12", "A1"),
    ("Haupt-Str.", "12", "A1"),
    (" Hauptstraße ", " 12 ", "A1"),
    ("Hauptstraße", "12a", "A2"),
    ("Hauptstraße", "12 A", "A2"),
    ("Hauptstraße", "12A", "A2"),
    ("Haupt Str.", "13", "A3"),
    ("hauptstr.", "14", "A4"),
    ("Am Mühlenbach", "3", "A5"),
    ("Am Muehlenbach", "3", "A5"),
    ("Am Mühlen-Bach", "3", "A5"),
    ("am muehlenbach", "3", "A5"),
    ("AM MÜHLENBACH", "3", "A5"),
    ("St.-Georg-Platz", "1", "A6"),
    ("Sankt Georg Platz", "1", "A6"),
    ("St. Georg Pl.", "1", "A6"),
    ("Sankt-Georg-Pl", "1", "A6"),
    ("Lange Str.", "5", "A9"),
    ("Langestrasse", "5", "A9"),
]


def test_normalised_spellings_agree() -> None:
    keys = normalise_street(pd.Series([v[0] for v in VARIANTS]))
    expected = normalise_street(ADDRESSES.set_index("address_id")["street"]).to_dict()
    for (spelling, _, aid), key in zip(VARIANTS, keys, strict=True):
        assert key == expected[aid], spelling


def test_house_number_forms() -> None:
    hn = parse_house_numbers(pd.Series(["12", "12a", "12 A", "12-14", " 7 ", "x1", None]))
    assert list(hn.first) == [12, 12, 12, 12, 7, -1, -1]
    assert list(hn.last) == [12, 12, 12, 14, 7, -1, -1]
    assert list(hn.suffix) == ["", "a", "a", "", "", "", ""]
    assert list(hn.valid) == [True, True, True, True, True, False, False]


@pytest.mark.parametrize("with_postcode", [True, False])
def test_every_spelling_variant_matches_its_address(with_postcode: bool) -> None:
    offers = pd.DataFrame(
        {
            "provider": "Demo Glasfaser",
            "technology": "ftth",
            "street": [v[0] for v in VARIANTS],
            "house_number": [v[1] for v in VARIANTS],
            "postcode": ["59581"] * len(VARIANTS) if with_postcode else pd.NA,
            "place": ["Warstein"] * len(VARIANTS),
        }
    )
    result = match_offers(ADDRESSES, offers)
    got = dict(
        zip(result.offer_idx, ADDRESSES["address_id"].to_numpy()[result.addr_idx], strict=True)
    )
    assert got == {i: v[2] for i, v in enumerate(VARIANTS)}
    assert result.unmatched.empty


def test_unmatched_rows_are_listed_with_reasons_and_shared_keys_apply_to_all() -> None:
    offers = pd.DataFrame(
        {
            "provider": "Demo Netz",
            "technology": "vdsl",
            "address_id": [pd.NA, pd.NA, pd.NA, pd.NA, "A3", "NOPE"],
            "street": ["Nirgendweg", "Hauptstraße", "Kirchweg", pd.NA, pd.NA, pd.NA],
            "house_number": ["1", "99", "7", "4", pd.NA, pd.NA],
            "place": ["Warstein", "Warstein", "Warstein", "Warstein", pd.NA, pd.NA],
        }
    )
    # Kirchweg 7 in Warstein is held by two address records: the reply applies to both
    addresses = ADDRESSES.copy()
    addresses.loc[7, "place"] = "Warstein"
    result = match_offers(addresses, offers)
    pairs = sorted(zip(result.offer_idx, result.addr_idx, strict=True))
    kirchweg = [int(p) for r, p in pairs if r == 2]
    assert len(kirchweg) == 2 and 7 in kirchweg
    assert sorted({int(r) for r, _ in pairs}) == [2, 4]
    assert result.several.to_dict("records") == [{"row": 3, "addresses": 2}]
    reasons = dict(zip(result.unmatched["row"], result.unmatched["reason"], strict=True))
    assert reasons == {
        1: "street_not_found",
        2: "number_not_found",
        4: "no_key",
        6: "unknown_address_id",
    }


def test_house_number_range_covers_each_number() -> None:
    offers = pd.DataFrame(
        {
            "provider": "P",
            "technology": "ftth",
            "street": ["Hauptstr."],
            "house_number": ["12-14"],
            "place": ["Warstein"],
        }
    )
    result = match_offers(ADDRESSES, offers)
    assert sorted(ADDRESSES["address_id"].to_numpy()[result.addr_idx]) == ["A1", "A2", "A3", "A4"]


def _ids(addresses: pd.DataFrame, numbers: list[str]) -> list[list[str]]:
    """Address ids each offer house number reaches on Hauptstraße in Warstein."""
    offers = pd.DataFrame({"street": "Hauptstraße", "house_number": numbers, "place": "Warstein"})
    result = match_offers(addresses, offers)
    ids = addresses["address_id"].to_numpy()
    return [sorted(ids[result.addr_idx[result.offer_idx == i]]) for i in range(len(numbers))]


def test_an_address_recorded_as_a_range_is_reached_by_every_number_in_it() -> None:
    addresses = pd.DataFrame(
        {
            "address_id": ["R", "S"],
            "street": ["Hauptstraße", "Hauptstraße"],
            "house_number": ["12-14", "20"],
            "place": ["Warstein", "Warstein"],
        }
    )
    # "12-14" was matched by "12-14" and "12" only; 13 and 14 are in the range too
    assert _ids(addresses, ["12-14", "12", "13", "14", "15", "11-12", "19-21"]) == [
        ["R"], ["R"], ["R"], ["R"], [], ["R"], ["S"],
    ]  # fmt: skip


def test_ranges_written_with_a_side_cover_only_that_side() -> None:
    addresses = pd.DataFrame(
        {
            "address_id": [f"N{n}" for n in range(1, 9)],
            "street": "Hauptstraße",
            "house_number": [str(n) for n in range(1, 9)],
            "place": "Warstein",
        }
    )
    got = _ids(addresses, ["1-7 ungerade", "2-8 (g)", "2-6 even", "3-5"])
    assert got == [
        ["N1", "N3", "N5", "N7"],
        ["N2", "N4", "N6", "N8"],
        ["N2", "N4", "N6"],
        ["N3", "N4", "N5"],
    ]
    hn = parse_house_numbers(pd.Series(["1-7 ungerade", "2-8 (g)", "12a", "4-6"]))
    assert list(hn.parity) == [1, 2, 0, 0] and list(hn.suffix) == ["", "", "a", ""]
