"""The one exception tree of cbec-declare.

Every error the library raises derives from :class:`CbecError` and carries a machine-readable
``code`` (dotted, stable across releases), a human ``message`` and, where it helps, the ``field``
(a path such as ``Order[0]/OrderHead/acturalPaid``) and the spec's Chinese field name ``zh``::

    CbecError
    ├── ConfigError                     bad configuration or usage of the API (a programming error)
    ├── ModelError (ValueError)         a model was given a value of the wrong type or form
    ├── XmlError                        bytes that are not an acceptable XML document
    │   ├── MalformedXmlError             not well-formed, truncated, bad encoding
    │   ├── UnsafeXmlError                DTD, entity declarations, XInclude, ...
    │   ├── OversizedInputError           larger or deeper than the configured limit
    │   └── UnexpectedDocumentError       well-formed, but not the document that was expected
    ├── BuildError                      a model cannot be written as the spec's XML
    ├── ValidationError                 a document fails XSD or business rules (``report`` attached)
    ├── SigningError                    a signature could not be made
    │   ├── SignerUnavailable             token, card client or key not reachable
    │   ├── KeyMaterialError              a key or certificate could not be loaded
    │   └── UnsupportedAlgorithm          the algorithm is not available for this key
    ├── VerificationError               a signature does not verify (``reason`` says which part)
    │   ├── SignatureStructureError       missing/several Signature, wrong Reference, transforms
    │   ├── AlgorithmNotAllowed           algorithm unknown or not in the allowed set
    │   ├── DigestMismatch                the document changed after signing
    │   ├── SignatureMismatch             SignedInfo changed, or wrong key
    │   └── CertificateNotTrusted         not pinned/trusted, expired, or not for this key
    ├── EnvelopeError                   a DXP envelope cannot be built or read
    ├── TransportError                  talking to a remote party failed
    │   ├── ConnectError                  could not connect / connection dropped
    │   ├── TransportTimeout              no answer in time
    │   ├── RemoteServerError             the remote answered 5xx (retryable)
    │   ├── RemoteRejected                the remote refused the request (4xx, business rejection)
    │   └── PushRejected                  an incoming push failed decryption, digest or parsing
    ├── ReceiptError                    a receipt cannot be understood
    ├── LedgerError                     the ledger cannot store or load a document
    └── PipelineError                   a declaration cannot move through the flow

Secrets never appear in messages: code that handles PINs and keys passes only their names.
"""

from __future__ import annotations

from typing import Any, ClassVar

__all__ = [
    "AlgorithmNotAllowed",
    "BuildError",
    "CbecError",
    "CertificateNotTrusted",
    "ConfigError",
    "ConnectError",
    "DigestMismatch",
    "EnvelopeError",
    "KeyMaterialError",
    "LedgerError",
    "MalformedXmlError",
    "ModelError",
    "OversizedInputError",
    "PipelineError",
    "PushRejected",
    "ReceiptError",
    "RemoteRejected",
    "RemoteServerError",
    "SignatureMismatch",
    "SignatureStructureError",
    "SignerUnavailable",
    "SigningError",
    "TransportError",
    "TransportTimeout",
    "UnexpectedDocumentError",
    "UnsafeXmlError",
    "UnsupportedAlgorithm",
    "ValidationError",
    "VerificationError",
    "XmlError",
]


class CbecError(Exception):
    """Base class of every error raised by cbec-declare.

    ``code`` is a stable, dotted, machine-readable identifier; ``message`` is for humans;
    ``field`` names the offending field (a path), ``zh`` its Chinese name in the spec.
    Extra keyword arguments are kept in ``context`` for programs (never secrets).
    """

    code: ClassVar[str] = "error"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        field: str | None = None,
        zh: str | None = None,
        **context: Any,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            # An instance may refine the class code (e.g. "verify.digest" → "verify.digest.reference").
            self.code = code  # type: ignore[misc]
        self.field = field
        self.zh = zh
        self.context = context

    def __str__(self) -> str:
        where = ""
        if self.field:
            where = f"{self.field}"
            if self.zh:
                where += f" ({self.zh})"
            where += ": "
        return f"[{self.code}] {where}{self.message}"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form for ``--json`` output and logs."""
        out: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.field:
            out["field"] = self.field
        if self.zh:
            out["zh"] = self.zh
        for key, value in self.context.items():
            if isinstance(value, (str, int, float, bool)) or value is None:
                out[key] = value
        return out


class ConfigError(CbecError):
    code = "config"


class ModelError(CbecError, ValueError):
    code = "model"


class XmlError(CbecError):
    code = "xml"


class MalformedXmlError(XmlError):
    code = "xml.malformed"


class UnsafeXmlError(XmlError):
    code = "xml.unsafe"


class OversizedInputError(XmlError):
    code = "xml.oversized"


class UnexpectedDocumentError(XmlError):
    code = "xml.unexpected"


class BuildError(CbecError):
    code = "build"


class ValidationError(CbecError):
    """Raised by :func:`cbec_declare.validation.validate_or_raise`; ``report`` holds every finding."""

    code = "validation"

    def __init__(self, message: str, *, report: Any = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.report = report


class SigningError(CbecError):
    code = "sign"


class SignerUnavailable(SigningError):
    code = "sign.unavailable"


class KeyMaterialError(SigningError):
    code = "sign.key"


class UnsupportedAlgorithm(SigningError):
    code = "sign.algorithm"


class VerificationError(CbecError):
    """A signature does not verify. ``reason`` is a short machine word for the failed part."""

    code = "verify"


class SignatureStructureError(VerificationError):
    code = "verify.structure"


class AlgorithmNotAllowed(VerificationError):
    code = "verify.algorithm"


class DigestMismatch(VerificationError):
    code = "verify.digest"


class SignatureMismatch(VerificationError):
    code = "verify.signature"


class CertificateNotTrusted(VerificationError):
    code = "verify.certificate"


class EnvelopeError(CbecError):
    code = "envelope"


class TransportError(CbecError):
    """Talking to a remote party failed. ``retryable`` says whether trying again may help."""

    code = "transport"
    retryable: ClassVar[bool] = False


class ConnectError(TransportError):
    code = "transport.connect"
    retryable = True


class TransportTimeout(TransportError):
    code = "transport.timeout"
    retryable = True


class RemoteServerError(TransportError):
    code = "transport.server"
    retryable = True


class RemoteRejected(TransportError):
    code = "transport.rejected"


class PushRejected(TransportError):
    code = "transport.push"


class ReceiptError(CbecError):
    code = "receipt"


class LedgerError(CbecError):
    code = "ledger"


class PipelineError(CbecError):
    code = "pipeline"
