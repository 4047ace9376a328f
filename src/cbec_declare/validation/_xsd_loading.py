"""Compile an XSD file into an lxml ``XMLSchema`` without ever touching the network.

libxml2 loads ``xs:import``/``xs:include`` targets itself, through lxml's resolvers. The resolver below
sees every load: local files are read by us and handed over with their own ``schemaLocation``s made
absolute ``file:`` URIs (libxml2 cannot build a URI from a relative non-ASCII location such as
``终端节点报文.xsd``, which the customs packages use); a remote W3C xmldsig schema is served by our local
copy; any other remote location is refused and reported.
"""

from __future__ import annotations

import threading
from pathlib import Path
from urllib.parse import unquote, urlparse
from urllib.request import url2pathname

from lxml import etree

from ..errors import ConfigError

__all__ = ["XS_NS", "compile_schema", "read_schema_document"]

XS_NS = "http://www.w3.org/2001/XMLSchema"
_LINKS = frozenset(f"{{{XS_NS}}}{name}" for name in ("import", "include", "redefine", "override"))
#: Remote copies of the xmldsig schema that we serve from our own file instead.
_XMLDSIG_NAME = "xmldsig-core-schema.xsd"
#: Schema files are small (the largest customs file is ~180 KB); this only stops absurd input.
_MAX_SCHEMA_BYTES = 8 * 1024 * 1024


def _parser() -> etree.XMLParser:
    # Schema files are configuration, but may still come from a download: no network, no external
    # entities. Internal entities stay allowed because the W3C xmldsig schema declares some.
    return etree.XMLParser(
        no_network=True,
        resolve_entities="internal",  # type: ignore[arg-type]  # lxml >= 5 accepts "internal"
        load_dtd=False,
        huge_tree=False,
    )


def _is_remote(location: str) -> bool:
    # A one-letter "scheme" is a Windows drive ("C:\\..."), a local path.
    scheme = urlparse(location).scheme
    return len(scheme) > 1 and scheme.lower() != "file"


def _local_path(location: str) -> Path:
    if location.lower().startswith("file:"):
        return Path(url2pathname(unquote(urlparse(location).path)))
    return Path(location)


def read_schema_document(path: Path) -> etree._Element:
    """Parse one schema file and make its import/include locations absolute ``file:`` URIs."""
    try:
        size = path.stat().st_size
        if size > _MAX_SCHEMA_BYTES:
            raise ConfigError(
                f"schema file {path} is {size} bytes; the limit is {_MAX_SCHEMA_BYTES}",
                code="config.schema",
                path=str(path),
            )
        root = etree.fromstring(path.read_bytes(), _parser(), base_url=path.resolve().as_uri())
    except OSError as exc:
        raise ConfigError(
            f"cannot read schema file {path}: {exc.strerror or exc}", code="config.schema", path=str(path)
        ) from exc
    except etree.XMLSyntaxError as exc:
        raise ConfigError(
            f"schema file {path} is not well-formed XML: {exc}", code="config.schema", path=str(path)
        ) from exc
    for link in root:
        location = link.get("schemaLocation") if link.tag in _LINKS else None
        if location and not _is_remote(location):
            target = _local_path(location)
            if not target.is_absolute():
                target = path.parent / target
            if not target.exists():
                # An include keeps the including schema's namespace; an import names its own.
                wanted = (
                    link.get("namespace") if link.tag.endswith("}import") else root.get("targetNamespace")
                )
                target = _same_namespace(path, wanted) or target
            link.set("schemaLocation", target.resolve().as_uri())
    return root


def _target_namespace(path: Path) -> str | None:
    # Only the root start tag is needed: stop there instead of parsing the whole file.
    try:
        with path.open("rb") as handle:
            for _, element in etree.iterparse(
                handle, events=("start",), no_network=True, resolve_entities=False
            ):
                namespace: object = element.get("targetNamespace")
                return namespace if isinstance(namespace, str) else None
    except (OSError, etree.XMLSyntaxError):
        return None
    return None  # pragma: no cover - a parsed file has a root


def _same_namespace(including: Path, namespace: str | None) -> Path | None:
    """The one other schema next to ``including`` with this target namespace, if there is exactly one.

    Customs renamed its files in the 202205 package but left the transfer schema including the old
    name (终端节点报文.xsd); the terminal schema is still there under its new name, found by content.
    """
    if namespace is None:
        return None
    found = [
        other
        for other in sorted(including.parent.glob("*"))
        if other.suffix.lower() == ".xsd" and other != including and _target_namespace(other) == namespace
    ]
    return found[0] if len(found) == 1 else None


class _LocalOnly(etree.Resolver):
    """Serves every schema load from disk; never lets libxml2 open a URL."""

    def __init__(self, xmldsig: Path) -> None:
        super().__init__()
        self.xmldsig = xmldsig
        self.refused: list[str] = []
        self.failed: list[str] = []

    # lxml-stubs describe Resolver.resolve without its context argument and omit resolve_empty.
    def resolve(  # type: ignore[override]
        self, system_url: str | None, public_id: str | None, context: object
    ) -> object:
        if not system_url:
            return None
        if _is_remote(system_url):
            if system_url.rstrip("/").rsplit("/", 1)[-1] == _XMLDSIG_NAME:
                return self._serve(self.xmldsig, context)
            self.refused.append(system_url)
            return self.resolve_empty(context)  # type: ignore[attr-defined]
        return self._serve(_local_path(system_url), context)

    def _serve(self, path: Path, context: object) -> object:
        try:
            root = read_schema_document(path)
        except ConfigError as exc:
            self.failed.append(exc.message)
            return self.resolve_empty(context)  # type: ignore[attr-defined]
        return self.resolve_string(etree.tostring(root), context, base_url=path.resolve().as_uri())


# libxml2 (2.14, as bundled with lxml 6) fills its table of built-in XSD types lazily, on the first schema
# compile, and not thread-safely; lxml compiles without the GIL. Measured: of 20 fresh processes in which
# 8 threads compiled at once, 2 had every compile fail ("xmlSchemaPValAttrNodeValue, the given type is
# not a built-in type"), one of them for good: that worker process could never validate again. Compiles
# are rare (once per schema and process), so all of them go through one lock.
_COMPILE_LOCK = threading.Lock()


def compile_schema(path: Path, *, xmldsig: Path) -> etree.XMLSchema:
    """Compile ``path`` (and what it imports) into an ``XMLSchema``; every failure is a ConfigError."""
    resolver = _LocalOnly(xmldsig)
    parser = _parser()
    parser.resolvers.add(resolver)
    root = read_schema_document(path)
    # Re-parse through the resolver-carrying parser: lxml gives imports the resolvers of the parser
    # that produced the schema document.
    document = etree.fromstring(etree.tostring(root), parser, base_url=path.resolve().as_uri())
    try:
        with _COMPILE_LOCK:
            return etree.XMLSchema(document)
    except etree.XMLSchemaParseError as exc:
        if resolver.refused:
            raise ConfigError(
                f"schema {path.name} imports {', '.join(resolver.refused)} from the network, which is never "
                "fetched; put a local copy next to it and point schemaLocation at the file",
                code="config.schema.remote",
                path=str(path),
            ) from exc
        detail = "; ".join(resolver.failed) or str(exc)
        raise ConfigError(
            f"{path.name} is not a usable XML Schema: {detail}", code="config.schema", path=str(path)
        ) from exc
