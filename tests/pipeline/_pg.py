"""A throw-away PostgreSQL cluster for tests and benchmarks: ``initdb`` + ``pg_ctl`` in a temporary folder.

The server listens only on a Unix socket inside that folder (no TCP port to collide with anything), runs
as an unprivileged account when we are root (PostgreSQL refuses to run as root), and is stopped and
removed by :meth:`PgCluster.stop`. Every command is bounded by a timeout.
"""

from __future__ import annotations

import glob
import os
import pwd
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import quote

__all__ = ["PgCluster", "find_bindir"]

_TOOLS = ("initdb", "pg_ctl", "postgres")
_USER = "cbec"  # the cluster's superuser name (trust authentication: the socket is private)


def _version(path: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", path))


def find_bindir() -> Path | None:
    """The newest folder holding initdb, pg_ctl and postgres (Debian's layout first, then PATH)."""
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=_version, reverse=True)
    initdb = shutil.which("initdb")
    if initdb:
        candidates.append(str(Path(initdb).resolve().parent))
    for candidate in candidates:
        if all(os.access(Path(candidate) / tool, os.X_OK) for tool in _TOOLS):
            return Path(candidate)
    return None


class PgCluster:
    """A private PostgreSQL server. ``settings`` go into postgresql.conf (e.g. ``{"fsync": "off"}``)."""

    def __init__(self, bindir: Path, *, settings: dict[str, str] | None = None, timeout: float = 60.0):
        self.bindir = bindir
        self.settings = dict(settings or {})
        self.timeout = timeout
        self.root = Path(tempfile.mkdtemp(prefix="cbec-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self.port = 5432  # names the socket file only: nothing listens on TCP
        self._run_as: dict[str, Any] = {}
        if os.geteuid() == 0:
            account = _unprivileged_account()
            self._run_as = {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": []}
            os.chown(self.root, account.pw_uid, account.pw_gid)
        self._started = False

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.bindir / args[0]), *args[1:]],
            cwd=self.root,
            capture_output=True,
            text=True,
            timeout=self.timeout,
            check=False,
            **self._run_as,
        )

    def start(self) -> PgCluster:
        """initdb, configure, start, and wait until the server accepts connections."""
        done = self._run(
            "initdb", "-D", str(self.data), "-U", _USER, "-A", "trust", "-E", "UTF8",
            "--locale=C", "--no-sync",
        )  # fmt: skip
        if done.returncode != 0:
            raise RuntimeError(f"initdb failed: {done.stdout}\n{done.stderr}")
        conf = {
            "listen_addresses": "''",
            "unix_socket_directories": f"'{self.root}'",
            "port": str(self.port),
            "max_connections": "100",
            **self.settings,
        }
        with open(self.data / "postgresql.conf", "a", encoding="utf-8") as out:
            out.write("".join(f"{key} = {value}\n" for key, value in conf.items()))
        done = self._run(
            "pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-t", str(int(self.timeout)), "start"
        )
        if done.returncode != 0:
            log = self.log.read_text(errors="replace") if self.log.exists() else ""
            raise RuntimeError(f"pg_ctl start failed: {done.stdout}\n{done.stderr}\n{log}")
        self._started = True
        return self

    def dsn(self, dbname: str = "postgres") -> str:
        """A libpq keyword DSN for a database of this cluster."""
        return f"host={self.root} port={self.port} user={_USER} dbname={dbname}"

    def url(self, dbname: str = "postgres") -> str:
        """The same as a ``postgresql://`` URL (the socket folder goes in the host parameter)."""
        return f"postgresql://{_USER}@/{dbname}?host={quote(str(self.root), safe='')}&port={self.port}"

    def create_database(self, name: str) -> str:
        """Create an empty database; returns its URL."""
        import psycopg
        from psycopg import sql

        if not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
            raise ValueError(f"not a plain database name: {name!r}")
        with psycopg.connect(self.dsn(), autocommit=True, connect_timeout=10) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self.url(name)

    def stop(self) -> None:
        """Stop the server (immediately: it holds nothing we keep) and remove its folder."""
        try:
            if self._started:
                self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "-t", "30", "stop")
        finally:
            self._started = False
            shutil.rmtree(self.root, ignore_errors=True)


def _unprivileged_account() -> pwd.struct_passwd:
    for name in ("postgres", "nobody"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    raise RuntimeError(
        "running as root, and neither a 'postgres' nor a 'nobody' account exists for the server"
    )
