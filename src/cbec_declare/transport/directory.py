"""A folder pair for DXP client programs: atomic writes into an outbox, bounded polling of an inbox.

Vendor DXP clients (智能传输客户端, Ecom客户端, …) pick messages up from a folder and drop receipts into
another. No official file-naming convention was found [L], so names are opaque: the routing data
lives in ``TransInfo``, and the default name is ``<CopMsgId>.xml`` — a retry of the same message
overwrites the same file instead of creating a second declaration.

Writing is atomic: the bytes go to a hidden temporary file *in the outbox* (same filesystem), are
flushed and ``fsync``-ed, then renamed over the final name (``os.replace``) and the folder entry is
``fsync``-ed, so a client never sees half a file and a power cut never leaves one. Temporary names
start with ``.`` and end in ``.tmp``, which clients that take ``*.xml`` ignore.

Reading polls with a bounded wait (:meth:`DirectoryTransport.poll`), skips hidden and temporary files
and files younger than ``settle`` seconds (for clients that do not write atomically), and leaves each
file in place until :meth:`DirectoryTransport.done` archives or deletes it — a crash between reading
and storing a receipt loses nothing.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import attrs

from .._xml import DEFAULT_MAX_BYTES
from ..errors import ConfigError, EnvelopeError, TransportError
from .node import NodeReply

__all__ = ["DirectoryTransport", "InboxFile"]

log = logging.getLogger("cbec_declare.transport")

_SAFE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,199}")


def default_name(cop_msg_id: str) -> str:
    if not _SAFE_ID.fullmatch(cop_msg_id) or ".." in cop_msg_id:
        raise EnvelopeError(
            f"CopMsgId {cop_msg_id!r} cannot be used as a file name (letters, digits, . _ - only)",
            code="envelope.cop_msg_id.filename",
            field="TransInfo/CopMsgId",
        )
    return f"{cop_msg_id}.xml"


def _fsync_dir(folder: Path) -> None:
    # Makes the rename itself durable; not possible (nor needed) on every platform.
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@attrs.frozen
class InboxFile:
    """A file found in the inbox: its path and content."""

    path: Path
    data: bytes = attrs.field(repr=lambda value: f"<{len(value)} bytes>")


class DirectoryTransport:
    """Outbox writer and inbox reader. ``name`` maps a CopMsgId to a file name."""

    def __init__(
        self,
        outbox: str | os.PathLike[str],
        *,
        inbox: str | os.PathLike[str] | None = None,
        archive: str | os.PathLike[str] | None = None,
        name: Callable[[str], str] = default_name,
        settle: float = 0.0,
        max_file_bytes: int = DEFAULT_MAX_BYTES * 2,
        fsync: bool = True,
    ) -> None:
        self.outbox = Path(outbox)
        self.inbox = Path(inbox) if inbox is not None else None
        self.archive = Path(archive) if archive is not None else None
        for folder in (self.outbox, self.inbox, self.archive):
            if folder is not None and not folder.is_dir():
                raise ConfigError(f"folder {str(folder)!r} does not exist", code="config.folder")
        self.name = name
        self.settle = settle
        self.max_file_bytes = max_file_bytes
        self.fsync = fsync

    def __repr__(self) -> str:
        inbox = str(self.inbox) if self.inbox else None
        return f"DirectoryTransport(outbox={str(self.outbox)!r}, inbox={inbox!r})"

    def send(self, dxp_msg: bytes, *, cop_msg_id: str) -> NodeReply:
        """Write ``dxp_msg`` atomically as ``outbox/<name(cop_msg_id)>``; accepted = handed over."""
        final = self.outbox / self.name(cop_msg_id)
        if final.parent != self.outbox:
            raise EnvelopeError(
                f"file name for {cop_msg_id!r} leaves the outbox", code="envelope.cop_msg_id.filename"
            )
        temp = self.outbox / f".{uuid.uuid4().hex}.tmp"
        try:
            with open(temp, "wb") as handle:
                handle.write(dxp_msg)
                handle.flush()
                if self.fsync:
                    os.fsync(handle.fileno())
            os.replace(temp, final)
        except OSError as exc:
            with contextlib.suppress(OSError):
                temp.unlink()
            raise TransportError(
                f"cannot write {final.name} into the outbox: {exc.strerror or exc}",
                code="transport.directory.write",
            ) from exc
        if self.fsync:
            _fsync_dir(self.outbox)
        log.info("DxpMsg %s written to %s", cop_msg_id, final)
        return NodeReply(accepted=True, transport="directory", cop_msg_id=cop_msg_id, location=str(final))

    def _ready(self, now: float) -> list[Path]:
        assert self.inbox is not None
        found: list[tuple[float, str, Path]] = []
        for entry in os.scandir(self.inbox):
            if entry.name.startswith(".") or entry.name.endswith((".tmp", ".part")) or not entry.is_file():
                continue
            modified = entry.stat().st_mtime
            if self.settle and now - modified < self.settle:
                continue
            found.append((modified, entry.name, Path(entry.path)))
        return [path for _, _, path in sorted(found)]

    def poll(self, *, timeout: float, interval: float = 0.1, max_files: int = 100) -> list[InboxFile]:
        """Wait at most ``timeout`` seconds for inbox files; return up to ``max_files`` (oldest first).

        An empty list means nothing arrived in time. Files stay until :meth:`done`.
        """
        if self.inbox is None:
            raise ConfigError("this DirectoryTransport has no inbox", code="config.folder")
        deadline = time.monotonic() + max(timeout, 0.0)
        while True:
            paths = self._ready(time.time())[:max_files]
            if paths:
                return [self._read(path) for path in paths]
            left = deadline - time.monotonic()
            if left <= 0:
                return []
            time.sleep(min(interval, left))

    def _read(self, path: Path) -> InboxFile:
        size = path.stat().st_size
        if size > self.max_file_bytes:
            raise TransportError(
                f"inbox file {path.name} is {size} bytes; the limit is {self.max_file_bytes}",
                code="transport.directory.oversized",
            )
        return InboxFile(path, path.read_bytes())

    def done(self, item: InboxFile) -> None:
        """Archive (``archive`` given) or delete a processed inbox file."""
        if self.archive is not None:
            os.replace(item.path, self.archive / item.path.name)
        else:
            item.path.unlink()
