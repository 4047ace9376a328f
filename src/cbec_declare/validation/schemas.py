"""XSD validation: the project's own schemas of both spec versions, or an official customs package.

Three kinds of document are validated:

* ``"ceb"`` — the import messages (CEB311 … CEB900), ``schemas/<version>/ceb-import.xsd``;
* ``"dxp"`` — the terminal envelope ``DxpMsg`` / ``DxpRep``, ``dxp-terminal.xsd``;
* ``"dxp-transfer"`` — the transfer envelope ``DxpMsgSv``, ``dxp-transfer.xsd``.

Our schemas accept exactly what customs' XSD of the same package accepts (see ``schemas/README.md``);
``directory=`` swaps in a customs package given by the user. Compiled schemas are cached per
(version, kind, directory). Schema files never cause a network access.

Typical use::

    root = parse_untrusted(data)
    findings = xsd_findings(root, "2022-05")   # [] when valid
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Iterable
from importlib import resources
from pathlib import Path
from typing import Final, Literal, cast, get_args

import attrs
from lxml import etree

from .._xml import CEB_NS, DXP_NS
from ..codes import SpecVersion
from ..errors import ConfigError
from ._xsd_findings import LogEntry, translate_error_log
from ._xsd_loading import XS_NS, compile_schema, read_schema_document
from .report import Finding

__all__ = [
    "SCHEMA_KINDS",
    "SchemaKind",
    "SchemaPackage",
    "bundled_schema_dir",
    "clear_schema_cache",
    "is_valid",
    "load_schema_package",
    "schema_for",
    "schema_path",
    "xsd_findings",
]

SchemaKind = Literal["ceb", "dxp", "dxp-transfer"]
SCHEMA_KINDS: Final[tuple[str, ...]] = get_args(SchemaKind)

_OUR_FILES: Final = {"ceb": "ceb-import.xsd", "dxp": "dxp-terminal.xsd", "dxp-transfer": "dxp-transfer.xsd"}
_OUR_XMLDSIG: Final = "xmldsig-customs.xsd"
#: Root elements that mark an import-messages schema (the export package defines CEB303, CEB603, ...).
_IMPORT_ROOTS: Final = frozenset({"CEB311Message", "CEB411Message", "CEB511Message", "CEB621Message"})


def bundled_schema_dir() -> Path:
    """The folder holding our schemas: ``cbec_declare/schemas`` in a wheel, ``schemas/`` in a checkout."""
    packaged = resources.files("cbec_declare") / "schemas"
    if isinstance(packaged, Path) and packaged.is_dir():
        return packaged
    checkout = Path(__file__).resolve().parents[3] / "schemas"
    if checkout.is_dir():
        return checkout
    raise ConfigError(
        "the bundled XML Schemas were not found (neither cbec_declare/schemas nor the checkout's schemas/); "
        "the installation is incomplete",
        code="config.schema.missing",
    )


def _kind(kind: str) -> SchemaKind:
    if kind not in SCHEMA_KINDS:
        raise ConfigError(
            f"unknown schema kind {kind!r}; expected one of {', '.join(SCHEMA_KINDS)}",
            code="config.schema.kind",
        )
    return kind  # type: ignore[return-value]


@attrs.frozen
class SchemaPackage:
    """A folder of XSD files, with the file found for each kind (``None`` when the folder has none)."""

    directory: Path
    ceb: Path | None = None
    dxp: Path | None = None
    dxp_transfer: Path | None = None
    #: ``.xsd`` files that could not be read, with the reason; named when a kind turns out missing.
    unreadable: tuple[str, ...] = ()

    def path(self, kind: str) -> Path:
        """The schema file of ``kind``, or a :class:`ConfigError` saying the package has none."""
        found: Path | None = getattr(self, _kind(kind).replace("-", "_"))
        if found is None:
            what = {"ceb": "import messages (CEB311Message …)", "dxp": "DxpMsg", "dxp-transfer": "DxpMsgSv"}
            extra = f"; unreadable files: {'; '.join(self.unreadable)}" if self.unreadable else ""
            raise ConfigError(
                f"no schema in {self.directory} defines {what[kind]}{extra}",
                code="config.schema.missing",
                directory=str(self.directory),
            )
        return found


def _classify(root: etree._Element) -> str | None:
    if root.tag != f"{{{XS_NS}}}schema":
        return None
    defined = {el.get("name") for el in root if el.tag == f"{{{XS_NS}}}element"}
    namespace = root.get("targetNamespace")
    if namespace == CEB_NS and defined & _IMPORT_ROOTS:
        return "ceb"
    if namespace == DXP_NS and "DxpMsgSv" in defined:
        return "dxp-transfer"
    if namespace == DXP_NS and "DxpMsg" in defined:
        return "dxp"
    return None


def load_schema_package(directory: Path | str) -> SchemaPackage:
    """Find the import-messages and DXP schemas in a folder by their content, not their file names.

    A file is the import schema when its ``targetNamespace`` is the ceb namespace and it defines import
    message roots (CEB311Message …); the terminal DXP schema defines ``DxpMsg``, the transfer schema
    ``DxpMsgSv``. Raises :class:`ConfigError` when the folder does not exist, holds no such schema, or
    holds two candidates for one kind.
    """
    folder = Path(directory)
    if not folder.is_dir():
        raise ConfigError(
            f"schema directory {folder} does not exist or is not a directory",
            code="config.schema.directory",
            directory=str(folder),
        )
    found: dict[str, list[Path]] = {kind: [] for kind in SCHEMA_KINDS}
    unreadable: list[str] = []
    for candidate in sorted(folder.iterdir()):
        if not candidate.is_file() or candidate.suffix.lower() != ".xsd":
            continue
        try:
            kind = _classify(read_schema_document(candidate))
        except ConfigError as exc:
            unreadable.append(exc.message)
            continue
        if kind is not None:
            found[kind].append(candidate)
    for kind, paths in found.items():
        if len(paths) > 1:
            raise ConfigError(
                f"{folder} holds several {kind} schemas ({', '.join(p.name for p in paths)}); keep one",
                code="config.schema.ambiguous",
                directory=str(folder),
            )
    if not any(found.values()):
        extra = f" (unreadable: {'; '.join(unreadable)})" if unreadable else ""
        raise ConfigError(
            f"{folder} holds no import-messages or DXP schema{extra}",
            code="config.schema.missing",
            directory=str(folder),
        )
    first = {kind: paths[0] if paths else None for kind, paths in found.items()}
    return SchemaPackage(
        folder, first["ceb"], first["dxp"], first["dxp-transfer"], unreadable=tuple(unreadable)
    )


def schema_path(
    version: SpecVersion | str = SpecVersion.V2018_113,
    *,
    kind: str = "ceb",
    directory: Path | str | None = None,
) -> Path:
    """The XSD file that :func:`schema_for` compiles for these arguments."""
    checked = _kind(kind)
    if directory is not None:
        return load_schema_package(directory).path(checked)
    return bundled_schema_dir() / SpecVersion.coerce(version).value / _OUR_FILES[checked]


class _Compiled:
    """A compiled schema, plus a second copy whose error log is read under a lock.

    lxml keeps one error log per ``XMLSchema`` object: two threads validating with the same object
    overwrite each other's log. ``validate()`` (a bool) is safe to share; the error details come from
    the diagnostic copy, built on the first invalid document and used by one thread at a time.
    """

    __slots__ = ("_diagnostic", "_lock", "path", "schema", "xmldsig")

    def __init__(self, path: Path, xmldsig: Path) -> None:
        self.path = path
        self.xmldsig = xmldsig
        self.schema = compile_schema(path, xmldsig=xmldsig)
        self._diagnostic: etree.XMLSchema | None = None
        self._lock = threading.Lock()

    def errors(self, root: etree._Element) -> list[LogEntry]:
        with self._lock:
            if self._diagnostic is None:
                self._diagnostic = compile_schema(self.path, xmldsig=self.xmldsig)
            self._diagnostic.validate(root)
            # Copied under the lock: the log is overwritten by the next validation.
            return list(cast("Iterable[LogEntry]", self._diagnostic.error_log))


_CACHE: dict[tuple[SpecVersion, str, Path | None], _Compiled] = {}
_CACHE_LOCK = threading.Lock()


def _compiled(version: SpecVersion | str, kind: str, directory: Path | str | None) -> _Compiled:
    checked = _kind(kind)
    spec_version = SpecVersion.coerce(version)
    folder = Path(directory).resolve() if directory is not None else None
    key = (spec_version, checked, folder)
    hit = _CACHE.get(key)  # a dict read is atomic: the hot path takes no lock
    if hit is not None:
        return hit
    with _CACHE_LOCK:
        # Compiled once: threads that start validating together wait for the first one's compile.
        hit = _CACHE.get(key)
        if hit is None:
            path = schema_path(spec_version, kind=checked, directory=folder)
            xmldsig = bundled_schema_dir() / SpecVersion.V2022_05.value / _OUR_XMLDSIG
            hit = _CACHE[key] = _Compiled(path, xmldsig)
        return hit


def clear_schema_cache() -> None:
    """Forget every compiled schema (e.g. after the files of a ``directory=`` package changed)."""
    with _CACHE_LOCK:
        _CACHE.clear()


def schema_for(
    version: SpecVersion | str = SpecVersion.V2018_113,
    *,
    kind: str = "ceb",
    directory: Path | str | None = None,
) -> etree.XMLSchema:
    """The compiled ``XMLSchema`` of ``kind`` for a spec version, or from a customs package ``directory``.

    ``kind`` is ``"ceb"`` (import messages), ``"dxp"`` (DxpMsg/DxpRep) or ``"dxp-transfer"`` (DxpMsgSv).
    With ``directory`` the files come from :func:`load_schema_package` and ``version`` only keys the cache.
    The object is shared: call ``validate()`` from any thread, but read ``error_log`` only where no
    other thread validates with it — :func:`xsd_findings` does that safely.
    """
    return _compiled(version, kind, directory).schema


def _element(root: object) -> etree._Element:
    if isinstance(root, etree._ElementTree):
        return root.getroot()
    if isinstance(root, etree._Element):
        return root
    raise ConfigError(
        f"expects a parsed lxml element, got {type(root).__name__}; parse bytes with "
        "cbec_declare._xml.parse_untrusted first",
        code="config.argument",
    )


def is_valid(
    root: etree._Element,
    version: SpecVersion | str = SpecVersion.V2018_113,
    *,
    kind: str = "ceb",
    directory: Path | str | None = None,
) -> bool:
    """Whether the document is valid against the schema of ``kind`` (no details; see :func:`xsd_findings`)."""
    return bool(_compiled(version, kind, directory).schema.validate(_element(root)))


def xsd_findings(
    root: etree._Element,
    version: SpecVersion | str,
    *,
    kind: str = "ceb",
    directory: Path | str | None = None,
) -> list[Finding]:
    """Validate against the schema of ``kind`` and return one :class:`Finding` per schema error.

    Each finding has ``source="xsd"``, a stable code (``xsd.length``, ``xsd.missing``, ``xsd.unexpected``,
    ``xsd.order``, ``xsd.occurs``, ``xsd.type``, ``xsd.fixed``, ``xsd.digits``, ``xsd.enumeration``,
    ``xsd.pattern``, ``xsd.range``, ``xsd.root``, ``xsd.other``), the element path with 0-based indices
    of repeatable elements (``CEB311Message/Order[0]/OrderHead/acturalPaid``), the spec's Chinese field
    name and the source line. An empty list means valid.
    """
    element = _element(root)
    compiled = _compiled(version, kind, directory)
    if compiled.schema.validate(element):
        return []
    if element.getparent() is not None:
        # libxml2 reports paths relative to the document it validated; validate a standalone copy
        # (deepcopy keeps source lines) so that the reported paths and our element map agree.
        element = copy.deepcopy(element)
    return translate_error_log(element, compiled.errors(element))
