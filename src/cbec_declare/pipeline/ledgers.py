"""Open the ledger a URL or path names: ``sqlite:///…``, a bare file path, or ``postgresql://…``."""

from __future__ import annotations

import os
import re
from urllib.parse import parse_qsl, unquote, urlsplit

from ..errors import LedgerError
from .ledger import Ledger

__all__ = ["open_ledger"]

_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]+):")
_SQLITE_OPTIONS = {"synchronous", "busy_timeout"}


def open_ledger(url_or_path: str | os.PathLike[str]) -> Ledger:
    """Open (creating or migrating it if needed) the ledger that ``url_or_path`` names.

    * ``postgresql://user@host:5432/db?…`` or ``postgres://…``: a :class:`PostgresLedger` (needs the
      ``postgres`` extra); the URL goes to libpq as it is.
    * ``sqlite:///relative/path.db``, ``sqlite:////absolute/path.db``: a :class:`SqliteLedger`; the query
      may set ``synchronous`` (FULL, EXTRA, NORMAL) and ``busy_timeout`` (seconds), e.g.
      ``sqlite:///ledger.db?synchronous=NORMAL``.
    * anything else without a scheme (``ledger.db``, ``/var/lib/cbec/ledger.db``): a SQLite file.

    Other schemes raise :class:`LedgerError` ``ledger.config``.
    """
    text = os.fspath(url_or_path)
    match = _SCHEME.match(text)
    scheme = match.group(1).lower() if match else ""
    if scheme in ("postgresql", "postgres"):
        from .postgres_ledger import PostgresLedger

        return PostgresLedger(text)
    from .sqlite_ledger import SqliteLedger

    if not scheme:
        return SqliteLedger(text)
    if scheme != "sqlite":
        raise LedgerError(
            f"unknown ledger URL scheme {scheme!r}: use sqlite:///path, a file path or postgresql://…",
            code="ledger.config",
        )
    parts = urlsplit(text)
    if parts.netloc:
        raise LedgerError(
            "a sqlite URL has no host: write sqlite:///relative.db or sqlite:////absolute.db",
            code="ledger.config",
        )
    path = unquote(parts.path)[1:]  # "sqlite:///x.db" → "x.db", "sqlite:////var/x.db" → "/var/x.db"
    options = dict(parse_qsl(parts.query, keep_blank_values=True))
    unknown = set(options) - _SQLITE_OPTIONS
    if unknown:
        raise LedgerError(
            f"unknown sqlite URL option(s) {', '.join(sorted(unknown))}; known: synchronous, busy_timeout",
            code="ledger.config",
        )
    try:
        busy_timeout = float(options.get("busy_timeout", "30"))
    except ValueError:
        raise LedgerError(
            f"busy_timeout must be a number of seconds, not {options['busy_timeout']!r}",
            code="ledger.config",
        ) from None
    return SqliteLedger(path, synchronous=options.get("synchronous", "FULL"), busy_timeout=busy_timeout)
