"""One error tree for the engine.

Every class also subclasses the builtin a caller would naturally catch (``ValueError`` for
bad data, ``OSError`` for unreadable sources, ``LookupError`` for unknown names), so generic
code keeps working. Messages name the file, the row or feature, the field, and the fix.
The faces (CLI, HTTP) map these classes to exit codes and status codes in one table each.
"""

from __future__ import annotations


class GapmapError(Exception):
    """Base class of every error gapmap raises on purpose."""

    #: machine-readable code, stable across releases (used in API problem bodies)
    code: str = "gapmap_error"


class InputDataError(GapmapError, ValueError):
    """An input file or frame is malformed: missing column, bad value, empty layer."""

    code = "input_invalid"


class CRSError(InputDataError):
    """A layer has no CRS, an unusable CRS, or coordinates that do not fit its CRS."""

    code = "crs_invalid"


class SourceReadError(GapmapError, OSError):
    """A source cannot be opened or read (missing file, unknown format, corrupt archive)."""

    code = "source_unreadable"


class ProfileError(GapmapError, ValueError):
    """A rule profile is unknown or malformed."""

    code = "profile_invalid"


class NotFoundError(GapmapError, LookupError):
    """A named thing (profile, run, dataset, address) does not exist."""

    code = "not_found"


class RunCancelledError(GapmapError):
    """A run was cancelled through its progress callback."""

    code = "run_cancelled"


class StateError(InputDataError):
    """A step that the current state of a procedure (an MEV, a challenge) does not allow."""

    code = "wrong_state"
