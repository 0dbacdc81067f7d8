"""What a run records about itself: the manifest's blocks.

Shared by ``gapmap run`` (:mod:`coverage.pipeline`) and ``gapmap cluster-run``
(:mod:`coverage.cluster.run`), so both write the same manifest.
"""

from __future__ import annotations

import platform
from typing import Any

import numpy as np
import pandas as pd

from coverage.profiles import Profile
from coverage.schema import ValidationReport

#: the layout version of ``manifest.json``
MANIFEST_VERSION = 1


def validation_record(reports: list[ValidationReport]) -> dict[str, Any]:
    """The manifest's ``validation`` block: per input, what its checks counted (the
    dropped rows themselves are in ``validation.json`` of a run)."""
    return {r.source: {k: v for k, v in r.to_dict().items() if k != "dropped"} for r in reports}


def profile_record(profile: Profile) -> dict[str, Any]:
    """The manifest's ``profile`` block: which rules, in which version, classified."""
    classes = [c.name for c in profile.classes]
    return {
        "id": profile.id,
        "version": profile.version,
        "title": profile.title,
        "family": profile.family,
        "valid_from": profile.valid_from.isoformat() if profile.valid_from else None,
        "valid_to": profile.valid_to.isoformat() if profile.valid_to else None,
        "source_document": profile.source_document or None,
        "source_section": profile.source_section or None,
        "source_date": profile.source_date.isoformat() if profile.source_date else None,
        "selected_by": profile.selected_by or f"version id {profile.id}",
        "sha256": profile.sha256,
        "source_url": profile.source_url,
        "classes": classes,
        "eligible_classes": [c for c in classes if c in profile.eligible_classes],
    }


def software_versions() -> dict[str, str]:
    import geopandas
    import pyogrio
    import pyproj
    import shapely

    return {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "pandas": pd.__version__,
        "geopandas": geopandas.__version__,
        "shapely": shapely.__version__,
        "pyogrio": pyogrio.__version__,
        "pyproj": pyproj.__version__,
    }
