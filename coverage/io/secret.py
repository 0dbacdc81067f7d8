"""The secret behind the cell key method's record keys (one per workspace or user).

Kept in a file readable only by its owner; created with 32 random bytes on first use. With
the same secret, the same cell gets the same published value in every run, so repeating a
publication gives away nothing new. Anyone holding the secret can undo the noise: keep it
out of run directories, backups that are shared, and version control.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from coverage.errors import InputDataError

__all__ = ["DEFAULT_SECRET_ENV", "default_secret_path", "load_or_create_secret"]

DEFAULT_SECRET_ENV = "GAPMAP_CELL_KEY_SECRET_FILE"


def default_secret_path() -> Path:
    """``$GAPMAP_CELL_KEY_SECRET_FILE``, else ``$XDG_CONFIG_HOME/gapmap/cell-key.secret``
    (``~/.config/gapmap/cell-key.secret``)."""
    env = os.environ.get(DEFAULT_SECRET_ENV)
    if env:
        return Path(env)
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "gapmap" / "cell-key.secret"


def load_or_create_secret(path: Path) -> bytes:
    """The secret in ``path`` (hex text), created (mode 0600) when the file does not exist."""
    path = Path(path)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process created it first: use theirs
            pass
        else:
            with os.fdopen(fd, "w", encoding="ascii") as f:
                f.write(secrets.token_hex(32) + "\n")
    try:
        text = path.read_text(encoding="ascii").strip()
        value = bytes.fromhex(text)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise InputDataError(
            f"{path}: not a cell key secret ({exc}); it must hold at least 32 hex digits. "
            "Restore it from your backup (a new secret changes every published value)"
        ) from None
    if len(value) < 16:
        raise InputDataError(f"{path}: the cell key secret needs at least 32 hex digits")
    return value
