"""The ``gapmap`` typer app, its consoles and exit codes, and the entry point.

Command modules (``api.cli.run``, ``maps``, ``evidence``, ``service``) import ``app`` from here
and register on it; this module imports none of them (``api.cli`` imports them all).

Exit codes: 0 success, 2 bad input or usage (one short message, no traceback), 1 internal
error (message plus traceback on stderr, because that is a bug to report).
"""

from __future__ import annotations

import sys
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from coverage.errors import GapmapError, RunCancelledError

if TYPE_CHECKING:
    from api.service.store import Store

app = typer.Typer(
    name="gapmap",
    help="Broadband coverage gap analysis: classify every address under a funding rule set.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
# Piped output (logs, CI, tests) gets a wide console so tables are never cut.
out = Console(width=None if Console().is_terminal else 200)
err = Console(stderr=True, width=None if Console(stderr=True).is_terminal else 200)

EXIT_INTERNAL = 1
EXIT_BAD_INPUT = 2


class _ExitError(Exception):
    def __init__(self, code: int) -> None:
        self.code = code


@contextmanager
def _user_errors() -> Iterator[None]:
    """Turn engine errors into exit code 2 with one line; anything else is an internal error."""
    try:
        yield
    except RunCancelledError as exc:
        err.print(f"[yellow]cancelled:[/] {exc}", highlight=False)
        raise _ExitError(EXIT_BAD_INPUT) from exc
    except GapmapError as exc:
        err.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        raise _ExitError(EXIT_BAD_INPUT) from exc


@contextmanager
def _catalog(workspace: Path | None) -> Iterator[Store]:
    """The service's catalog of ``workspace`` (default: the settings' one), migrated, with
    engine errors as exit code 2; closed afterwards."""
    from api.service.settings import Settings
    from api.service.store import Store

    settings = Settings(workspace=workspace) if workspace else Settings()
    settings.workspace.mkdir(parents=True, exist_ok=True)
    store = Store(settings.workspace, settings.resolved_database_url())
    try:
        store.migrate()
        with _user_errors():
            yield store
    finally:
        store.close()


@contextmanager
def _progress_bar() -> Iterator[Callable[[str, float], None]]:
    with Progress(
        TextColumn("[bold]{task.description:<16}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    ) as bar:
        task = bar.add_task("starting", total=1.0)

        def update(stage: str, fraction: float) -> None:
            bar.update(task, description=stage, completed=fraction)

        yield update


def main(argv: list[str] | None = None) -> int:
    """Console-script entry point; returns the exit code."""
    try:
        app(args=argv, standalone_mode=False)
    except _ExitError as exc:
        return exc.code
    except typer.Abort:
        err.print("aborted")
        return EXIT_BAD_INPUT
    except Exception as exc:
        # typer vendors click in recent releases: recognise its exceptions by shape, not class
        if hasattr(exc, "show") and hasattr(exc, "exit_code"):  # usage error
            exc.show()
            return EXIT_BAD_INPUT
        if type(exc).__name__ == "Exit" and hasattr(exc, "exit_code"):  # --help and friends
            return int(exc.exit_code)
        err.print(
            f"[bold red]internal error:[/] {exc!r} (this is a bug; please report it with the traceback below)"
        )
        traceback.print_exc(file=sys.stderr)
        return EXIT_INTERNAL
    return 0
