"""海关总署公告2018年第179号: the payment raw data upload (``payExInfoStr``) and its sign string.

The platform answers customs' ``platDataOpen`` by POSTing ``payExInfoStr``: compact JSON with
``sessionID``, ``payExchangeInfoHead``, ``payExchangeInfoLists``, ``serviceTime``, ``certNo``,
``signValue`` in that order. ``signValue`` signs (signature-dxp-179-receipts.md §C; one line)::

    "sessionID":"<sid>"||"payExchangeInfoHead":"<head JSON>"||
    "payExchangeInfoLists":"<lists JSON>"||"serviceTime":"<t>"

with the head and list JSON byte-identical to the upload and their inner quotes not escaped. The
models are validated when built; :func:`verify_payload` rebuilds the sign string from the upload's
own text (spans, never re-serialised), so it verifies what customs verifies.
"""

from __future__ import annotations

import base64
import json
import re
import time
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from typing import Any

import attrs

from ..errors import (
    CbecError,
    CertificateNotTrusted,
    ModelError,
    SignatureMismatch,
    SignatureStructureError,
    SigningError,
)
from ._jsonspan import object_members
from ._structure import strict_base64
from .base import SignatureAlgorithm, Signer
from .certs import CertificateInfo, CertificateInput, certificate_info, load_certificate, public_key
from .trust import check_validity
from .verify import verify_signed_info

__all__ = [
    "GoodsInfo",
    "PayExchangeInfoHead",
    "PayExchangeInfoItem",
    "VerifiedPayload",
    "build_payload",
    "head_json",
    "lists_json",
    "sign_string",
    "verify_payload",
]

_GUID = re.compile(r"^[0-9A-Z-]{36}$")
_TRADING_TIME = re.compile(r"^\d{14}$")
_MAX_INTEGER_DIGITS = 14  # N19,5
_MAX_FRACTION_DIGITS = 5


def _text(low: int, high: int) -> Any:
    def check(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if not isinstance(value, str):
            raise ModelError(f"must be text, got {type(value).__name__}", field=attribute.name)
        if not low <= len(value) <= high:
            raise ModelError(f"must be {low}..{high} characters, got {len(value)}", field=attribute.name)

    return check


def _one_of(*values: str) -> Any:
    def check(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if value not in values:
            raise ModelError(f"must be one of {', '.join(values)}, got {value!r}", field=attribute.name)

    return check


def _guid(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, str) or _GUID.match(value) is None:
        raise ModelError(
            f"must be 36 upper-case characters (digits, A-Z, '-'), got {value!r}", field=attribute.name
        )


def _amount(value: Any) -> Decimal:
    if isinstance(value, (float, bool)):
        raise ModelError("money is Decimal (or int/str), never float", field="total_amount")
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value))
    except InvalidOperation:
        raise ModelError(f"{value!r} is not a decimal number", field="total_amount") from None
    if not amount.is_finite() or amount < 0:
        raise ModelError(f"must be a finite amount >= 0, got {value!r}", field="total_amount")
    exponent = amount.normalize().as_tuple().exponent
    assert isinstance(exponent, int)
    if -exponent > _MAX_FRACTION_DIGITS or amount.adjusted() >= _MAX_INTEGER_DIGITS:
        raise ModelError(f"{value} does not fit N19,5 (14 integer, 5 decimal digits)", field="total_amount")
    return amount


def _trading_time(value: Any) -> str:
    if isinstance(value, datetime):
        return value.strftime("%Y%m%d%H%M%S")
    if not isinstance(value, str) or _TRADING_TIME.match(value) is None:
        raise ModelError(f"must be yyyyMMddHHmmss, got {value!r}", field="trading_time")
    try:
        datetime.strptime(value, "%Y%m%d%H%M%S")
    except ValueError:
        raise ModelError(f"{value!r} is not a real date and time", field="trading_time") from None
    return value


@attrs.frozen(kw_only=True)
class PayExchangeInfoHead:
    """``payExchangeInfoHead``. Lengths per 179DOC where given (guid, initalRequest/Response,
    totalAmount N19,5, tradingTime); the code fields follow the CEB411 payment message [L]."""

    guid: str = attrs.field(validator=_guid)
    inital_request: str = attrs.field(validator=_text(1, 8000))
    inital_response: str = attrs.field(validator=_text(1, 8000))
    ebp_code: str = attrs.field(validator=_text(1, 18))
    pay_code: str = attrs.field(validator=_text(1, 18))
    pay_transaction_id: str = attrs.field(validator=_text(1, 60))
    total_amount: Decimal = attrs.field(converter=_amount)
    currency: str = attrs.field(default="142", validator=_text(3, 3))
    ver_dept: str = attrs.field(validator=_one_of("1", "2", "3"))  # 1 银联 2 网联 3 其他
    pay_type: str | None = attrs.field(
        default=None, validator=attrs.validators.optional(_one_of("1", "2", "3", "4"))
    )
    trading_time: str = attrs.field(converter=_trading_time)
    note: str = attrs.field(default="", validator=_text(0, 1000))


@attrs.frozen(kw_only=True)
class GoodsInfo:
    """One ``goodsInfo`` entry: the goods name and its link on the platform."""

    gname: str = attrs.field(validator=_text(1, 250))
    item_link: str = attrs.field(validator=_text(1, 2000))


def _goods(value: Any) -> tuple[GoodsInfo, ...]:
    items = tuple(value)
    if not items or not all(isinstance(item, GoodsInfo) for item in items):
        raise ModelError("must be one or more GoodsInfo", field="goods_info")
    return items


@attrs.frozen(kw_only=True)
class PayExchangeInfoItem:
    """One ``payExchangeInfoLists`` entry (an order and its goods, and the payee)."""

    order_no: str = attrs.field(validator=_text(1, 60))
    goods_info: tuple[GoodsInfo, ...] = attrs.field(converter=_goods)
    recp_account: str = attrs.field(validator=_text(1, 100))
    recp_code: str = attrs.field(validator=_text(0, 18))
    recp_name: str = attrs.field(validator=_text(1, 200))


def _s(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def _amount_text(amount: Decimal) -> str:
    # A JSON number without trailing zeros: 100, 100.1 — not 100.0 or 1E+2 (practitioners, §C).
    return format(amount.normalize(), "f")


def head_json(head: PayExchangeInfoHead) -> str:
    """The head as compact JSON in the documented key order (``payType`` left out when None)."""
    pairs = [
        ("guid", _s(head.guid)),
        ("initalRequest", _s(head.inital_request)),
        ("initalResponse", _s(head.inital_response)),
        ("ebpCode", _s(head.ebp_code)),
        ("payCode", _s(head.pay_code)),
        ("payTransactionId", _s(head.pay_transaction_id)),
        ("totalAmount", _amount_text(head.total_amount)),
        ("currency", _s(head.currency)),
        ("verDept", _s(head.ver_dept)),
    ]
    if head.pay_type is not None:
        pairs.append(("payType", _s(head.pay_type)))
    pairs += [("tradingTime", _s(head.trading_time)), ("note", _s(head.note))]
    return "{" + ",".join(f'"{key}":{value}' for key, value in pairs) + "}"


def lists_json(items: Sequence[PayExchangeInfoItem]) -> str:
    """The item list as compact JSON in the documented key order."""
    if not items:
        raise ModelError("at least one item is required", field="payExchangeInfoLists")
    out = []
    for item in items:
        goods = ",".join(f'{{"gname":{_s(g.gname)},"itemLink":{_s(g.item_link)}}}' for g in item.goods_info)
        out.append(
            f'{{"orderNo":{_s(item.order_no)},"goodsInfo":[{goods}],"recpAccount":{_s(item.recp_account)},'
            f'"recpCode":{_s(item.recp_code)},"recpName":{_s(item.recp_name)}}}'
        )
    return "[" + ",".join(out) + "]"


def sign_string(
    session_id: str,
    head: PayExchangeInfoHead | str,
    items: Sequence[PayExchangeInfoItem] | str,
    service_time: int | str,
) -> str:
    """The exact text customs verifies ``signValue`` against. ``head``/``items`` are models or the
    JSON text already sent (then used byte for byte)."""
    head_text = head if isinstance(head, str) else head_json(head)
    lists_text = items if isinstance(items, str) else lists_json(items)
    return (
        f'"sessionID":"{session_id}"||"payExchangeInfoHead":"{head_text}"||'
        f'"payExchangeInfoLists":"{lists_text}"||"serviceTime":"{service_time}"'
    )


def build_payload(
    head: PayExchangeInfoHead,
    items: Sequence[PayExchangeInfoItem],
    *,
    session_id: str,
    signer: Signer,
    service_time: int | None = None,
    cert_no: str | None = None,
    service_time_as_text: bool = False,
) -> str:
    """The signed ``payExInfoStr`` JSON text, ready for the ``realTimeDataUpload`` form field.

    ``service_time`` is ms since the epoch (default: now); the doc types it Long, so it is a JSON
    number unless ``service_time_as_text``. ``cert_no`` defaults to ``signer.key_name``. SM2
    signers give a raw ``r‖s`` signValue, RSA ones PKCS#1 v1.5 (SHA-1 for customs cards).
    """
    if not isinstance(session_id, str) or not session_id or '"' in session_id:
        raise ModelError("must be the non-empty sessionID from openReq", field="sessionID")
    moment = int(time.time() * 1000) if service_time is None else int(service_time)
    head_text, lists_text = head_json(head), lists_json(items)
    text = sign_string(session_id, head_text, lists_text, moment)
    try:
        signature = signer.sign(text.encode("utf-8"))
    except CbecError:
        raise
    except Exception as exc:
        raise SigningError(
            f"the signer {type(signer).__name__} failed: {type(exc).__name__}", code="sign.backend"
        ) from exc
    time_text = _s(str(moment)) if service_time_as_text else str(moment)
    return (
        f'{{"sessionID":{_s(session_id)},"payExchangeInfoHead":{head_text},"payExchangeInfoLists":{lists_text},'
        f'"serviceTime":{time_text},"certNo":{_s(cert_no or signer.key_name)},'
        f'"signValue":{_s(base64.b64encode(bytes(signature)).decode("ascii"))}}}'
    )


@attrs.frozen
class VerifiedPayload:
    """A verified upload: decoded members, the sign string and the certificate that checked it."""

    session_id: str
    head: Mapping[str, Any]
    lists: Sequence[Any]
    service_time: str
    cert_no: str
    sign_string: str
    algorithm: SignatureAlgorithm
    certificate_info: CertificateInfo


CertificateSource = CertificateInput | Mapping[str, CertificateInput] | None
_REQUIRED = ("sessionID", "payExchangeInfoHead", "payExchangeInfoLists", "serviceTime", "certNo", "signValue")


def _pick_certificate(source: CertificateSource, cert_no: str) -> bytes:
    if source is None:
        raise CertificateNotTrusted(
            f"the payload names certNo {cert_no!r} but no certificate was given to check it "
            "(reason: no-certificate)",
            code="verify.certificate.missing",
            reason="no-certificate",
        )
    if isinstance(source, Mapping):
        # Serials are hex: compare without regard to case (customs wants lower case, callers vary).
        found = {str(key).lower(): value for key, value in source.items()}.get(cert_no.lower())
        if found is None:
            raise CertificateNotTrusted(
                f"no certificate is registered for certNo {cert_no!r} (reason: unknown-cert-no)",
                code="verify.certificate.unknown",
                reason="unknown-cert-no",
            )
        return load_certificate(found)
    return load_certificate(source)


def verify_payload(
    pay_ex_info_str: str | bytes, *, certificate: CertificateSource = None, now: datetime | None = None
) -> VerifiedPayload:
    """Check the ``signValue`` of a ``payExInfoStr`` against the sign string rebuilt from its text.

    ``certificate`` is the signing certificate, or a mapping certNo → certificate (as customs keeps
    registered certificates). ``certNo`` must be that certificate's serial, and the certificate
    valid at ``now`` (default: the current time). SM2 certificates mean SM2/SM3 (raw ``r‖s``),
    RSA ones PKCS#1 v1.5 with SHA-1, which is what the customs cards compute. Raises
    :class:`~cbec_declare.errors.SignatureStructureError` for malformed payloads,
    :class:`~cbec_declare.errors.CertificateNotTrusted` and
    :class:`~cbec_declare.errors.SignatureMismatch`.
    """
    if isinstance(pay_ex_info_str, (bytes, bytearray)):
        try:
            text = bytes(pay_ex_info_str).decode("utf-8")
        except UnicodeDecodeError as exc:
            position = exc.start
        else:
            position = -1
        if position >= 0:
            raise SignatureStructureError(
                f"payExInfoStr is not UTF-8 (byte {position}) (reason: encoding)",
                code="verify.payload.encoding",
                reason="encoding",
            )
    else:
        text = pay_ex_info_str
    members = object_members(text)
    missing = [key for key in _REQUIRED if key not in members]
    if missing:
        raise SignatureStructureError(
            f"payExInfoStr lacks {', '.join(missing)} (reason: missing-member)",
            code="verify.payload.missing",
            field=missing[0],
            reason="missing-member",
        )
    session, head, lists = (
        members["sessionID"],
        members["payExchangeInfoHead"],
        members["payExchangeInfoLists"],
    )
    served, cert_no, value = members["serviceTime"], members["certNo"], members["signValue"]
    kinds = (
        (session.value, str, "sessionID"),
        (head.value, dict, "payExchangeInfoHead"),
        (lists.value, list, "payExchangeInfoLists"),
        (cert_no.value, str, "certNo"),
        (value.value, str, "signValue"),
    )
    for item, expected, name in kinds:
        if not isinstance(item, expected):
            raise SignatureStructureError(
                f"{name} must be a JSON {expected.__name__} (reason: member-type)",
                code="verify.payload.type",
                field=name,
                reason="member-type",
            )
    if isinstance(served.value, bool) or not isinstance(served.value, (int, str)):
        raise SignatureStructureError(
            "serviceTime must be a number or a string (reason: member-type)",
            code="verify.payload.type",
            field="serviceTime",
            reason="member-type",
        )
    service_time = served.value if isinstance(served.value, str) else served.raw
    der = _pick_certificate(certificate, cert_no.value)
    info = certificate_info(der)
    if cert_no.value.lower() != info.key_name:
        raise CertificateNotTrusted(
            f"certNo {cert_no.value!r} is not the certificate's serial {info.key_name!r} "
            "(reason: cert-no-mismatch)",
            code="verify.certificate.cert-no",
            reason="cert-no-mismatch",
        )
    check_validity(der, now or datetime.now(timezone.utc), role="signing certificate")
    algorithm = SignatureAlgorithm.SM2_SM3 if info.key_algorithm == "sm2" else SignatureAlgorithm.RSA_SHA1
    signed = sign_string(session.value, head.raw, lists.raw, service_time)
    signature = strict_base64(value.value, "signValue")
    if not verify_signed_info(public_key(der), algorithm, signed.encode("utf-8"), signature):
        raise SignatureMismatch(
            f"signValue does not verify as {algorithm.value} over the sign string with certificate "
            f"{info.key_name} (reason: signature)",
            code="verify.signature.mismatch",
            reason="signature",
        )
    return VerifiedPayload(
        session_id=session.value,
        head=head.value,
        lists=lists.value,
        service_time=service_time,
        cert_no=cert_no.value,
        sign_string=signed,
        algorithm=algorithm,
        certificate_info=info,
    )
