"""QGIS's data source form ``path|layername=NAME``: one parser for every file option.

QGIS writes a layer of a multi-layer file as ``/data/roads.gpkg|layername=roads`` (also
``|layerid=N`` and ``|sheet=NAME`` for a workbook sheet). Every reader in ``coverage.io``
passes its path through :func:`split_source` first, so ``--addresses``, ``--boundaries``,
``--coverage``, ``--offers`` and ``gapmap inspect`` all accept the same form.
"""

from __future__ import annotations

import os
from pathlib import Path

from coverage.errors import InputDataError

#: the keys understood after ``|``; layerid is QGIS's numeric form
_KEYS = ("layername", "layerid", "sheet")


def layer_source(path: str | os.PathLike[str], layer: str) -> str:
    """``file|layername=NAME``: the form messages show for naming a layer."""
    return f"{os.fspath(path)}|layername={layer}"


def split_source(path: str | os.PathLike[str], layer: str | None = None) -> tuple[Path, str | None]:
    """Split ``file|layername=NAME`` into ``(Path(file), NAME)``.

    ``layer`` given separately (a library caller's keyword) must agree with the one in the
    path. ``|layerid=N`` is returned as ``"#N"`` (the readers resolve it to the N-th layer,
    counted from 0 like QGIS); ``|sheet=NAME`` names a workbook sheet. A plain path is
    returned unchanged with ``layer``.
    """
    text = os.fspath(path)
    if "|" not in text:
        return Path(text), layer
    file, _, rest = text.partition("|")
    found: str | None = None
    for part in rest.split("|"):
        key, eq, value = part.partition("=")
        key = key.strip().lower()
        if not eq or key not in _KEYS or not value.strip():
            raise InputDataError(
                f"{text}: cannot read the layer part {part!r}; write the file as "
                f"'{file}|layername=NAME' (QGIS data source form)"
            )
        value = value.strip()
        if key == "layerid":
            if not value.isdigit():
                raise InputDataError(f"{text}: layerid must be a number, not {value!r}")
            value = f"#{value}"
        found = value
    if layer is not None and found is not None and layer != found:
        raise InputDataError(
            f"{text}: the layer is named twice ({found!r} in the path, {layer!r} besides); name it once"
        )
    return Path(file), found if found is not None else layer


def resolve_layer(layer: str | None, names: list[str], label: str) -> str | None:
    """Turn ``#N`` (from ``|layerid=N``) into the N-th layer name; check a name exists."""
    if layer is None:
        return None
    if layer.startswith("#") and layer[1:].isdigit() and layer not in names:
        i = int(layer[1:])
        if i >= len(names):
            raise InputDataError(
                f"{label}: no layer number {i}; the file has {len(names)} layer(s): {', '.join(names)}"
            )
        return names[i]
    if layer not in names:
        choices = ", ".join(f"'{layer_source(label, n)}'" for n in names)
        raise InputDataError(f"{label}: no layer {layer!r}; name one of: {choices}")
    return layer
