"""``gapmap demo-workspace``: the demo uploaded, run and three keys, ready for ``gapmap serve``."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from api.cli import main


def test_demo_workspace_has_a_succeeded_run_and_working_keys(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from api.service.security import Role, hash_key
    from api.service.store import Store

    ws = tmp_path / "ws"
    assert main(["demo-workspace", "--workspace", str(ws), "--scale", "0.02"]) == 0
    out = capsys.readouterr().out
    keys = dict(re.findall(r"^\s+(admin|analyst|public)\s+(gm_\S+)$", out, re.M))
    assert set(keys) == {"admin", "analyst", "public"}
    assert f"gapmap serve --workspace {ws}" in out
    store = Store(ws, f"sqlite:///{(ws / 'gapmap.db').resolve()}")
    try:
        runs = store.list_runs("succeeded", 10, 0).items
        assert len(runs) == 1 and runs[0].as_of == "2026-06-30"
        assert (store.run_dir(runs[0].id) / "addresses.parquet").is_file()
        kinds = sorted(d.kind for d in store.list_datasets(None, 10, 0).items)
        assert kinds == ["addresses", "boundaries", "coverage"]
        for role, key in keys.items():
            row = store.key_by_hash(hash_key(key))
            assert row is not None and Role(row.role).value == role
    finally:
        store.close()
