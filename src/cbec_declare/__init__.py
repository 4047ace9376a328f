"""cbec-declare: declare cross-border e-commerce imports to China Customs (跨境电商统一版), end to end.

Build the CEB messages from models, validate them (XSD of both spec versions + business rules), sign them
(XMLDSig, RSA and SM2) with any signer, wrap them in DXP, send them (the Hangzhou platform's <mo> channel
and the exchange node), receive receipts, and track every document to its final customs status.

The names below are the public API; each lives in a layer package (``cbec_declare.models``, ``.messages``,
``.validation``, ``.signing``, ``.envelope``, ``.transport``, ``.pipeline``) and is imported on first use,
so ``import cbec_declare`` stays cheap.
"""

from __future__ import annotations

import importlib
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

from . import errors
from .errors import CbecError

if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs
    from .codes import ReceiptStatus, SpecVersion, describe_status
    from .config import DeclareConfig, load_config
    from .envelope import unwrap, wrap
    from .messages import build, parse
    from .messages.jsonio import from_data, to_data
    from .models import (
        BaseTransfer,
        CEB311Message,
        CEB312Message,
        CEB411Message,
        CEB412Message,
        CEB511Message,
        CEB512Message,
        CEB513Message,
        CEB514Message,
        CEB621Message,
        CEB622Message,
        CEB623Message,
        CEB624Message,
        CEB625Message,
        CEB626Message,
        CEB711Message,
        CEB712Message,
        CEB816Message,
        CEB818Message,
        CEB900Message,
        Delivery,
        DeliveryHead,
        DeliveryItem,
        Inventory,
        InventoryHead,
        InventoryItem,
        InvtCancel,
        InvtRefund,
        InvtRefundHead,
        InvtRefundItem,
        LogisticsHead,
        LogisticsStatus,
        Order,
        OrderHead,
        OrderItem,
        PaymentHead,
    )
    from .pipeline import DocumentKind, Pipeline, PipelineSettings, State, StatusChange, Worker, open_ledger
    from .signing import (
        PROFILES,
        CallableSigner,
        EportClientSigner,
        Pkcs11Signer,
        SignatureAlgorithm,
        Signer,
        SoftwareSigner,
        VerifiedSignature,
        load_signer,
        sign,
        verify,
    )
    from .transport import (
        DirectoryTransport,
        PlatformClient,
        ReceiptReceiver,
        RestTransferDeclareTransport,
        RetryPolicy,
        SoapNodeTransport,
        make_wsgi_app,
    )
    from .validation import Finding, Report, Severity, validate, validate_or_raise

_MODELS = [
    "BaseTransfer",
    "CEB311Message",
    "CEB312Message",
    "CEB411Message",
    "CEB412Message",
    "CEB511Message",
    "CEB512Message",
    "CEB513Message",
    "CEB514Message",
    "CEB621Message",
    "CEB622Message",
    "CEB623Message",
    "CEB624Message",
    "CEB625Message",
    "CEB626Message",
    "CEB711Message",
    "CEB712Message",
    "CEB816Message",
    "CEB818Message",
    "CEB900Message",
    "Delivery",
    "DeliveryHead",
    "DeliveryItem",
    "Inventory",
    "InventoryHead",
    "InventoryItem",
    "InvtCancel",
    "InvtRefund",
    "InvtRefundHead",
    "InvtRefundItem",
    "LogisticsHead",
    "LogisticsStatus",
    "Order",
    "OrderHead",
    "OrderItem",
    "PaymentHead",
]

#: public name → the module that defines it
_WHERE: dict[str, str] = {
    **dict.fromkeys(_MODELS, "models"),
    **dict.fromkeys(("build", "parse"), "messages"),
    **dict.fromkeys(("from_data", "to_data"), "messages.jsonio"),
    **dict.fromkeys(("validate", "validate_or_raise", "Report", "Finding", "Severity"), "validation"),
    **dict.fromkeys(
        (
            "sign",
            "verify",
            "VerifiedSignature",
            "PROFILES",
            "Signer",
            "SignatureAlgorithm",
            "SoftwareSigner",
            "Pkcs11Signer",
            "EportClientSigner",
            "CallableSigner",
            "load_signer",
        ),
        "signing",
    ),
    **dict.fromkeys(("wrap", "unwrap"), "envelope"),
    **dict.fromkeys(
        (
            "PlatformClient",
            "ReceiptReceiver",
            "make_wsgi_app",
            "SoapNodeTransport",
            "RestTransferDeclareTransport",
            "DirectoryTransport",
            "RetryPolicy",
        ),
        "transport",
    ),
    **dict.fromkeys(
        ("Pipeline", "PipelineSettings", "Worker", "open_ledger", "State", "DocumentKind", "StatusChange"),
        "pipeline",
    ),
    **dict.fromkeys(("SpecVersion", "ReceiptStatus", "describe_status"), "codes"),
    **dict.fromkeys(("load_config", "DeclareConfig"), "config"),
}

__all__ = sorted([*_WHERE, "CbecError", "__version__", "errors"])


def __getattr__(name: str) -> Any:
    if name == "__version__":
        try:
            return version("cbec-declare")
        except PackageNotFoundError:  # pragma: no cover - a source tree without install
            return "0+unknown"
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'cbec_declare' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value  # later lookups skip __getattr__
    return value


def __dir__() -> list[str]:
    return __all__
