"""Record keys and cell keys: deterministic per secret, exact, order independent."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from coverage.errors import GapmapError, InputDataError
from coverage.io.secret import load_or_create_secret
from coverage.privacy.cellkey import MODULUS, CellKeyer, cell_keys

SECRET = bytes(range(32))


def test_record_keys_depend_on_id_and_secret_only() -> None:
    ids = pd.Series([f"A{i}" for i in range(1000)])
    a = CellKeyer(SECRET).address_keys(ids)
    assert (a == CellKeyer(SECRET).address_keys(ids)).all()
    assert (a[::-1] == CellKeyer(SECRET).address_keys(ids[::-1])).all()
    other = CellKeyer(bytes(32)).address_keys(ids)
    assert (a != other).mean() > 0.99
    assert a.min() >= 0 and a.max() < MODULUS
    # roughly uniform: each tenth of the range holds about a tenth of the keys
    hist = np.bincount((a * 10) // MODULUS, minlength=10)
    assert hist.min() > 60


def test_household_keys_are_zero_without_households() -> None:
    k = CellKeyer(SECRET)
    ids = pd.Series(["a", "a", "a"])
    hk = k.household_keys(ids, [0, 1, 2])  # the same address with 0, 1 and 2 households
    assert hk[0] == 0 and hk[1] != 0 and hk[2] == (2 * hk[1]) % MODULUS


def test_cell_keys_are_sums_mod_p_whatever_the_grouping() -> None:
    rng = np.random.default_rng(3)
    keys = rng.integers(0, MODULUS, 5000)
    rows = rng.integers(-1, 7, 5000)
    ck = cell_keys(rows, 7, keys)
    for r in range(7):
        assert ck[r] == (int(keys[rows == r].sum()) % MODULUS) / MODULUS
    # grouped key sums give the same cell keys as the records
    g = pd.DataFrame({"r": rows, "sub": rng.integers(0, 3, 5000), "k": keys})
    grouped = g.groupby(["r", "sub"], as_index=False)["k"].sum()
    assert np.array_equal(cell_keys(grouped["r"], 7, grouped["k"] % MODULUS), ck)


def test_short_secret_is_refused() -> None:
    with pytest.raises(GapmapError, match="16 bytes"):
        CellKeyer(b"short")


def test_secret_file_is_created_once_private_and_reused(tmp_path) -> None:
    path = tmp_path / "sub" / "cell-key.secret"
    first = load_or_create_secret(path)
    assert len(first) == 32 and (path.stat().st_mode & 0o777) == 0o600
    assert load_or_create_secret(path) == first
    path.write_text("not hex\n")
    with pytest.raises(InputDataError, match="not a cell key secret"):
        load_or_create_secret(path)


def test_a_table_perturbed_from_grouped_records_equals_each_column_counted_alone() -> None:
    """perturb_table sums the records once per (row, flags) group; every column must still
    get its own records' count and cell key, records without a row (-1) counting nowhere,
    with grouped records (n > 1, key sums) as a cluster run sends them."""
    from coverage.privacy.ptable import CkmParams, ptable
    from coverage.privacy.tables import Records, perturb_table

    rng = np.random.default_rng(5)
    n, m = 20_000, 40
    rows = rng.integers(-1, m, n)
    flags = {"eligible": rng.random(n) < 0.4, "class:white": rng.random(n) < 0.2}
    rec = Records(rng.integers(1, 4, n), rng.integers(0, 6, n), rng.integers(0, 2**40, n),
                  rng.integers(0, MODULUS, n), flags)  # fmt: skip
    cells = {"addresses": (None, "addresses"), "eligible_households": ("eligible", "households"),
             "n_white": ("class:white", "addresses")}  # fmt: skip
    table = pd.DataFrame({"key": range(m)})
    expected = {}
    pt = ptable(CkmParams())
    for col, (flag, unit) in cells.items():
        mask = np.ones(n, bool) if flag is None else flags[flag]
        weights, keys = (rec.n, rec.rk) if unit == "addresses" else (rec.households, rec.hk)
        sel = mask & (rows >= 0)
        count = np.bincount(rows[sel], weights=weights[sel], minlength=m).astype(np.int64)
        table[col] = count
        expected[col] = count + pt.perturbation(count, cell_keys(rows, m, keys, mask))
    out = perturb_table(table, rows, rec, cells, pt)
    for col in cells:
        assert out[col].tolist() == expected[col].tolist(), col
