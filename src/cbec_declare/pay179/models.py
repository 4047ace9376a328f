"""The records of the 179 flow: customs' request, the data to upload, customs' reply, the outcome.

Everything here is a frozen attrs value: the store hands them out, the service passes them around,
nothing mutates them. The payload models themselves (:class:`~cbec_declare.signing.pay179.PayExchangeInfoHead`
and friends) live in :mod:`cbec_declare.signing.pay179`; :class:`PaymentData` only bundles them.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import attrs

from ..errors import ModelError
from ..signing.pay179 import PayExchangeInfoHead, PayExchangeInfoItem

__all__ = [
    "OpenRequest",
    "Outcome",
    "PaymentData",
    "RawPaymentExchange",
    "ReplyKind",
    "RequestRecord",
    "RequestStatus",
    "UploadOutcome",
    "UploadRecord",
    "UploadReply",
]


class RequestStatus(str, enum.Enum):
    """Where one customs request (one sessionID) stands.

    A sessionID is *used* as soon as an upload for it starts (``UPLOADING`` and after): from then on
    it is never uploaded again. Until then (``RECEIVED``, ``NO_DATA``, ``INVALID``, ``SIGN_FAILED``)
    a customs retry or a manual ``upload_again`` may try again.
    """

    RECEIVED = "received"
    NO_DATA = "no_data"
    INVALID = "invalid"
    SIGN_FAILED = "sign_failed"
    UPLOADING = "uploading"
    UPLOADED = "uploaded"
    REJECTED = "rejected"
    FAILED = "failed"

    @property
    def session_used(self) -> bool:
        return self in _USED


_USED = frozenset(
    {RequestStatus.UPLOADING, RequestStatus.UPLOADED, RequestStatus.REJECTED, RequestStatus.FAILED}
)


class Outcome(str, enum.Enum):
    """How one attempt to answer a request ended."""

    #: customs answered 10000
    UPLOADED = "uploaded"
    #: customs answered, and refused: 20000, 20001–21000, an HTTP 4xx, or an unreadable answer
    REJECTED = "rejected"
    #: no answer from customs within the retry policy (connection errors, timeouts, 5xx)
    FAILED = "failed"
    #: the data source does not know the order (nothing was sent; the sessionID stays unused)
    NO_DATA = "no_data"
    #: the payment data does not validate (nothing was sent; the sessionID stays unused)
    INVALID = "invalid"
    #: the signer failed (nothing was sent; the sessionID stays unused)
    SIGN_FAILED = "sign_failed"

    @property
    def request_status(self) -> RequestStatus:
        return RequestStatus(self.value)


@attrs.frozen(kw_only=True)
class OpenRequest:
    """One valid ``openReq`` from customs (``serviceTime`` in ms since the epoch)."""

    order_no: str
    session_id: str
    service_time: int
    #: the ``openReq`` JSON text as it arrived (after HTML-unescaping, if that was needed)
    raw: str = attrs.field(default="", repr=False)


def _as_tuple(value: Iterable[PayExchangeInfoItem]) -> tuple[PayExchangeInfoItem, ...]:
    return tuple(value)


@attrs.frozen(kw_only=True)
class PaymentData:
    """What a data source returns for an order: the validated 179 head and its item list."""

    head: PayExchangeInfoHead
    items: tuple[PayExchangeInfoItem, ...] = attrs.field(converter=_as_tuple)

    @items.validator
    def _check(self, attribute: attrs.Attribute[Any], value: tuple[Any, ...]) -> None:
        if not value or not all(isinstance(item, PayExchangeInfoItem) for item in value):
            raise ModelError("must be one or more PayExchangeInfoItem", field="payExchangeInfoLists")

    def covers(self, order_no: str) -> bool:
        """True when one of the items is for ``order_no``."""
        return any(item.order_no == order_no for item in self.items)


def _links(value: Any) -> dict[str, str]:
    if not isinstance(value, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise ModelError("must map itemNo (or gnum) to a link, both text", field="item_links")
    return dict(value)


def _text_or_none(_: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is not None and not isinstance(value, str):
        raise ModelError(f"must be text, got {type(value).__name__}", field=attribute.name)


@attrs.frozen(kw_only=True)
class RawPaymentExchange:
    """What only the integrator knows about a payment: the raw request sent to the payment company
    and its raw answer (``initalRequest``/``initalResponse``), the payment channel (``verDept``:
    1 银联 2 网联 3 其他; ``payType``: 1 APP 2 PC 3 扫码 4 其他), the payee and the goods links.

    ``recp_code``/``recp_name`` default to the order's e-commerce enterprise (``ebcCode``/``ebcName``);
    ``item_links`` maps an order line's ``itemNo`` (or its ``gnum`` as text) to the goods' URL.
    """

    inital_request: str = attrs.field(validator=attrs.validators.instance_of(str))
    inital_response: str = attrs.field(validator=attrs.validators.instance_of(str))
    ver_dept: str = attrs.field(validator=attrs.validators.instance_of(str))
    recp_account: str = attrs.field(validator=attrs.validators.instance_of(str))
    pay_type: str | None = attrs.field(default=None, validator=_text_or_none)
    recp_code: str | None = attrs.field(default=None, validator=_text_or_none)
    recp_name: str | None = attrs.field(default=None, validator=_text_or_none)
    item_links: dict[str, str] = attrs.field(factory=dict, converter=_links, hash=False)
    note: str = attrs.field(default="", validator=attrs.validators.instance_of(str))

    def to_data(self) -> dict[str, Any]:
        """JSON-ready, with the 179 spellings (``initalRequest``, …) as keys."""
        return {
            "initalRequest": self.inital_request,
            "initalResponse": self.inital_response,
            "verDept": self.ver_dept,
            "payType": self.pay_type,
            "recpAccount": self.recp_account,
            "recpCode": self.recp_code,
            "recpName": self.recp_name,
            "itemLinks": self.item_links,
            "note": self.note,
        }

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> RawPaymentExchange:
        """The inverse of :meth:`to_data` (missing optional keys take their defaults)."""
        try:
            return cls(
                inital_request=data["initalRequest"],
                inital_response=data["initalResponse"],
                ver_dept=data["verDept"],
                recp_account=data["recpAccount"],
                pay_type=data.get("payType"),
                recp_code=data.get("recpCode"),
                recp_name=data.get("recpName"),
                item_links=data.get("itemLinks") or {},
                note=data.get("note") or "",
            )
        except KeyError as exc:
            raise ModelError(f"the raw exchange lacks {exc.args[0]}", field=str(exc.args[0])) from None


class ReplyKind(str, enum.Enum):
    """customs' ``realTimeDataUpload`` reply codes (signature-dxp-179-receipts.md §C)."""

    OK = "ok"  # 10000 上传成功
    FAILED = "failed"  # 20000 上传失败
    ERROR = "error"  # 20001–21000 other errors
    UNKNOWN = "unknown"  # any other code: treated as a refusal

    @classmethod
    def of(cls, code: str) -> ReplyKind:
        if code == "10000":
            return cls.OK
        if code == "20000":
            return cls.FAILED
        if code.isdigit() and 20001 <= int(code) <= 21000:
            return cls.ERROR
        return cls.UNKNOWN


@attrs.frozen(kw_only=True)
class UploadReply:
    """customs' answer to one upload."""

    code: str
    message: str
    kind: ReplyKind
    total: int | None = None
    service_time: int | None = None
    #: the answer as received (UTF-8 text, at most the configured reply size)
    raw: str = attrs.field(default="", repr=False)

    @property
    def ok(self) -> bool:
        return self.kind is ReplyKind.OK


@attrs.frozen(kw_only=True)
class UploadOutcome:
    """How answering one request ended (also what the store keeps of the upload)."""

    session_id: str
    order_no: str
    outcome: Outcome
    #: HTTP POSTs made (0 when nothing was sent)
    attempts: int = 0
    reply: UploadReply | None = None
    #: the library error code when no positive answer came (``transport.server.http``, ``pay179.data.none``…)
    error_code: str | None = None
    error_message: str | None = None
    #: the store's id of the upload (None when nothing was sent)
    upload_id: int | None = None

    @property
    def ok(self) -> bool:
        return self.outcome is Outcome.UPLOADED


@attrs.frozen(kw_only=True)
class RequestRecord:
    """A stored customs request."""

    session_id: str
    order_no: str
    service_time: int
    open_req: str = attrs.field(repr=False)
    status: RequestStatus
    reason: str
    #: how many more times customs sent the same openReq
    duplicates: int
    received_at: datetime
    updated_at: datetime


@attrs.frozen(kw_only=True)
class UploadRecord:
    """A stored upload: the exact ``payExInfoStr`` text and what became of it."""

    id: int
    session_id: str
    order_no: str
    status: RequestStatus
    payload: str = attrs.field(repr=lambda value: f"<{len(value)} chars>")
    attempts: int
    reply_code: str | None
    reply_message: str | None
    reply_body: str | None = attrs.field(repr=False)
    error_code: str | None
    error_message: str | None
    started_at: datetime
    finished_at: datetime | None
