"""Build models into 统一版 XML and parse XML back into models."""

from .reader import MESSAGE_CLASSES, parse, parse_element
from .writer import XML_DECLARATION, build, canonical_body

__all__ = ["MESSAGE_CLASSES", "XML_DECLARATION", "build", "canonical_body", "parse", "parse_element"]
