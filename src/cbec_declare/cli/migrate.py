"""``cbec-declare migrate SOURCE TARGET``: copy a ledger into an empty one (SQLite → PostgreSQL and back)."""

from __future__ import annotations

from typing import Any

from ..pipeline import migrate

__all__ = ["add_parser"]


def add_parser(sub: Any) -> None:
    parser = sub.add_parser(
        "migrate",
        help="copy a ledger into an empty one, verified (SQLite → PostgreSQL and back)",
        description=migrate.DESCRIPTION
        + " Stop every worker first. Exit codes: 0 copied and verified, 1 refused or failed"
        " (nothing committed), 2 usage error.",
    )
    migrate.add_arguments(parser)
    parser.set_defaults(handler=migrate.run)
