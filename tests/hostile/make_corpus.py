"""Write the hostile-input corpus (``tests/hostile/corpus/``) deterministically.

Run ``python tests/hostile/make_corpus.py`` after changing this file (``--check`` only compares), and
commit the result; ``test_corpus_is_up_to_date`` fails when the committed files and this script
disagree. Every input is generated here, from the library's own builders and from keys derived from
fixed seeds (no randomness, no clock), so the same script always writes the same bytes.

Each file is declared in ``corpus/MANIFEST.json``: what it is, which entry points it is fed to and
what each must answer. An expectation is one of

* ``{"raises": "<CbecError subclass>", "code": "<code prefix>"}`` — a typed error;
* ``{"report_error": "<code prefix>"}`` — :func:`~cbec_declare.validation.validate` returns a report
  with an ERROR finding of that code;
* ``{"status": 400, "ack": "S01"}`` — the push receiver answers that HTTP status and error ack;
* ``{"answer": "20002"}`` (and optionally ``"status"``) — the 179 ``openReq`` endpoint's answer code;
* ``{"exit": 1, "code": "<code prefix>"}`` — a CLI command's exit code and the error (or finding)
  code in its ``--json`` output;
* ``{"digest_valid": false}`` — :func:`~cbec_declare.transport.decode_push` reports the digest;
* ``{"accepted": false}`` — :func:`~cbec_declare.transport.node.parse_transfer_reply`'s verdict;
* ``{"ok": true}`` — accepted (the positive controls: ``valid-*`` files);
* ``{"typed": true}`` — returns, or raises a CbecError (any); nothing else;

(a case the library once failed is kept as a regression case).

Files may hold the placeholders :data:`CANARY_FILE` (a ``file:`` URL) and :data:`CANARY_URL` (an
``http://127.0.0.1`` URL); the tests replace them, in the file's ``template`` encoding, with a canary
file and a listening socket of their own, and prove that neither is ever touched.
"""

from __future__ import annotations

import argparse
import base64
import functools
import hashlib
import json
import random
import sys
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import attrs
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

from cbec_declare.envelope import wrap
from cbec_declare.messages import build
from cbec_declare.models import CEB311Message, CEB312Message, CEB816Message, OrderReturn, Tax
from cbec_declare.models.tax import TaxHead, TaxItem
from cbec_declare.signing import (
    GoodsInfo,
    PayExchangeInfoHead,
    PayExchangeInfoItem,
    SoftwareSigner,
    build_payload,
    sign,
)
from cbec_declare.testing.factories import DocumentFactory
from cbec_declare.transport import AesEcbCodec, JkfResult, JkfResultDetail, ResultReceipt, build_mo
from cbec_declare.transport.soap import build_fault, build_response

HERE = Path(__file__).resolve().parent
CORPUS = HERE / "corpus"
MANIFEST = "MANIFEST.json"

#: replaced by the tests with a canary file's ``file:`` URL / a listener's ``http:`` URL
CANARY_FILE = "file:///CANARY/FILE"
CANARY_URL = "http://127.0.0.1:9/CANARY/URL"

#: the moment signatures and certificates are judged at
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=timezone.utc)
GUID = "0A1B2C3D-4E5F-4A6B-8C7D-9E0F1A2B3C4D"
MSG_TYPE_CEB = "CUSTOMS_CEB_CALLBACK"
MSG_TYPE_RESULT = "CUSTOMS_DECLARE_RESULT_CALLBACK"
DXP_SENDER = "DXPEDCCEB0000002"
DXP_RECEIVER = "DXPENT0000458763"
SESSION_ID = "6F1C2D3E-4B5A-4C6D-8E7F-0A1B2C3D4E5F"
SERVICE_TIME = 1780000000000
ORDER_NO = "HZ2026060100000001"

# --------------------------------------------------------------------------- deterministic keys


def _seeded(label: str) -> random.Random:
    return random.Random(int.from_bytes(hashlib.sha256(label.encode()).digest(), "big"))


_SMALL_PRIMES = [p for p in range(3, 2000) if all(p % d for d in range(2, int(p**0.5) + 1))]


def _is_probable_prime(n: int, rng: random.Random) -> bool:
    for p in _SMALL_PRIMES:
        if n % p == 0:
            return n == p
    d, s = n - 1, 0
    while d % 2 == 0:
        d //= 2
        s += 1
    for _ in range(32):
        x = pow(rng.randrange(2, n - 2), d, n)
        if x in (1, n - 1):
            continue
        for _ in range(s - 1):
            x = pow(x, 2, n)
            if x == n - 1:
                break
        else:
            return False
    return True


def _prime(rng: random.Random, bits: int) -> int:
    while True:
        candidate = rng.getrandbits(bits) | (0b11 << (bits - 2)) | 1
        if _is_probable_prime(candidate, rng):
            return candidate


@functools.cache
def rsa_key(label: str, bits: int = 1024) -> rsa.RSAPrivateKey:
    """An RSA key derived from ``label``: the same label always gives the same key."""
    return rsa_key_from(_seeded(f"rsa:{label}"), bits)


def rsa_key_from(rng: random.Random, bits: int) -> rsa.RSAPrivateKey:
    """An RSA key of exactly ``bits`` bits (any size, unlike ``cryptography``'s generator, which refuses
    keys under 1024 bits), every random choice drawn from ``rng``: a seeded one gives the same key."""
    e = 65537
    while True:
        p, q = _prime(rng, bits // 2), _prime(rng, bits // 2)
        phi = (p - 1) * (q - 1)
        if p == q or phi % e == 0:
            continue
        d = pow(e, -1, phi)
        numbers = rsa.RSAPrivateNumbers(
            p=p,
            q=q,
            d=d,
            dmp1=d % (p - 1),
            dmq1=d % (q - 1),
            iqmp=pow(q, -1, p),
            public_numbers=rsa.RSAPublicNumbers(e, p * q),
        )
        return numbers.private_key()


def certificate(key: rsa.RSAPrivateKey, name: str, serial: int, start: int, end: int) -> bytes:
    """A self-signed DER certificate valid from 1 January ``start`` to 1 January ``end`` (UTC)."""
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    built = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(serial)
        .not_valid_before(datetime(start, 1, 1, tzinfo=timezone.utc))
        .not_valid_after(datetime(end, 1, 1, tzinfo=timezone.utc))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    return built.public_bytes(serialization.Encoding.DER)


@attrs.frozen
class Keys:
    """The corpus's key material. Test keys only: derived from public seeds, worthless elsewhere."""

    signer: rsa.RSAPrivateKey
    signer_cert: bytes
    expired_cert: bytes
    future_cert: bytes
    other: rsa.RSAPrivateKey
    other_cert: bytes
    platform: rsa.RSAPrivateKey
    forger: rsa.RSAPrivateKey
    aes: bytes
    wrong_aes: bytes

    def software_signer(self, cert: bytes | None = None) -> SoftwareSigner:
        return SoftwareSigner(self.signer, self.signer_cert if cert is None else cert)

    def platform_public_pem(self) -> bytes:
        return self.platform.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )


@functools.cache
def keys() -> Keys:
    signer, other = rsa_key("signer"), rsa_key("other")
    return Keys(
        signer=signer,
        signer_cert=certificate(signer, "corpus signer", 0x1001, 2020, 2050),
        expired_cert=certificate(signer, "corpus signer (expired)", 0x1002, 2000, 2001),
        future_cert=certificate(signer, "corpus signer (not yet valid)", 0x1003, 2090, 2099),
        other=other,
        other_cert=certificate(other, "someone else", 0x2001, 2020, 2050),
        platform=rsa_key("platform"),
        forger=rsa_key("forger"),
        aes=hashlib.sha256(b"corpus aes key").digest()[:16],
        wrong_aes=hashlib.sha256(b"another aes key").digest()[:16],
    )


# --------------------------------------------------------------------------- valid documents


def ceb311() -> bytes:
    factory = DocumentFactory(seed=7)
    order = factory.order(items=2)
    order = attrs.evolve(order, head=attrs.evolve(order.head, guid=GUID))
    message = CEB311Message(guid=GUID, orders=(order,), base_transfer=factory.company.base_transfer)
    return build(message)


def ceb312() -> bytes:
    ret = OrderReturn(
        guid=GUID,
        ebp_code="3301964J31",
        ebc_code="3301964J31",
        order_no=ORDER_NO,
        return_status="2",
        return_time=datetime(2026, 6, 1, 10, 0, 0, 123000),
        return_info="新增申报成功",
    )
    return build(CEB312Message(guid=GUID, returns=(ret,)))


def ceb816(gnum: str = "1") -> bytes:
    head = TaxHead(
        guid=GUID,
        return_time=datetime(2026, 6, 1, 10, 0, 0),
        invt_no="29912026I000000001",
        tax_no="29912026I000000001_1",
        customs_tax=Decimal("0"),
        value_added_tax=Decimal("10.92"),
        consumption_tax=Decimal("0"),
        status="1",
    )
    item = TaxItem(
        gnum=1,
        gcode="0409000000",
        tax_price=Decimal("120.00"),
        customs_tax=Decimal("0"),
        value_added_tax=Decimal("10.92"),
        consumption_tax=Decimal("0"),
    )
    data = build(CEB816Message(guid=GUID, taxes=(Tax(head=head, items=(item,)),)))
    return data.replace(b"<ceb:gnum>1</ceb:gnum>", f"<ceb:gnum>{gnum}</ceb:gnum>".encode())


def mo_result() -> bytes:
    result = JkfResult(
        company_code="3301961Q43",
        business_no="order001",
        business_type="IMPORTORDER",
        declare_type="1",
        chk_mark="1",
        notice_date="2026-06-01",
        notice_time="10:00",
        details=(JkfResultDetail(result_info="处理成功"),),
    )
    return build_mo(ResultReceipt(results=(result,)))


MO_IMPORTORDER = (
    '<?xml version="1.0" encoding="UTF-8"?><mo version="1.0.0"><head><businessType>IMPORTORDER'
    "</businessType></head><body><orderInfoList><orderInfo><jkfSign><companyCode>3301961Q43</companyCode>"
    "<businessNo>order001</businessNo><businessType>IMPORTORDER</businessType><declareType>1</declareType>"
    "</jkfSign><jkfOrderDetailList><jkfOrderDetail><goodsOrder>{goods_order}</goodsOrder>"
    "<goodsName>蜂蜜</goodsName><unitPrice>{price}</unitPrice></jkfOrderDetail></jkfOrderDetailList>"
    "</orderInfo></orderInfoList></body></mo>"
)


def signed_ceb311(cert: bytes | None = None) -> bytes:
    return sign(ceb311(), keys().software_signer(cert))


def dxp(payload: bytes, **options: Any) -> bytes:
    return wrap(
        payload,
        DXP_SENDER,
        DXP_RECEIVER,
        cop_msg_id="4C0FFEE0-0000-4000-8000-000000000001",
        creat_time=datetime(2026, 6, 1, 10, 0, 0),
        msg_type=options.pop("msg_type", "CEB312Message"),
        **options,
    )


DXP_SV = (
    '<?xml version="1.0" encoding="UTF-8"?><DxpMsgSv xmlns="http://www.chinaport.gov.cn/dxp" ver="1.0">'
    "{sv_no}{msg}</DxpMsgSv>"
)
SV_NO = (
    "<SvNo><MsgId>ID-0001</MsgId><SendTime>2026-06-01T10:00:00</SendTime>"
    "<EndNode>END</EndNode><StaNode>STA</StaNode></SvNo>"
)


def dxp_sv(payload: bytes, sv_no: str = SV_NO) -> bytes:
    inner = dxp(payload, namespace_style="default").decode("utf-8")
    inner = inner[inner.index("?>") + 2 :]
    return DXP_SV.format(sv_no=sv_no, msg=inner).encode("utf-8")


DXP_REP = (
    '<?xml version="1.0" encoding="UTF-8"?><dxp:DxpRep xmlns:dxp="http://www.chinaport.gov.cn/dxp">'
    "<dxp:RecevierId>DXPENT0000458763</dxp:RecevierId><dxp:Response>{response}</dxp:Response></dxp:DxpRep>"
)
DXP_RESPONSE = (
    "<dxp:ResponseCode>{code}</dxp:ResponseCode><dxp:NoticeTime>{notice}</dxp:NoticeTime>"
    "<dxp:OriHead><dxp:CopMsgId>X-1</dxp:CopMsgId><dxp:SenderId>DXPENT0000458763</dxp:SenderId>"
    "<dxp:ReceiverIds><dxp:ReceiverId>DXPEDCCEB0000002</dxp:ReceiverId></dxp:ReceiverIds>"
    "<dxp:CreatTime>2026-06-01T10:00:00</dxp:CreatTime><dxp:MsgType>CEB311Message</dxp:MsgType></dxp:OriHead>"
)


def dxp_rep(code: str = "0000", notice: str = "2026-06-01") -> bytes:
    return DXP_REP.format(response=DXP_RESPONSE.format(code=code, notice=notice)).encode("utf-8")


def push_form(
    document: bytes,
    *,
    msg_type: str = MSG_TYPE_CEB,
    aes: bytes | None = None,
    digest_key: rsa.RSAPrivateKey | None = None,
    digest_over: bytes | None = None,
) -> dict[str, str]:
    """The three fields of a push as the platform makes them (or as a forger would)."""
    k = keys()
    content = AesEcbCodec(aes or k.aes).encode(document)
    signed = document if digest_over is None else digest_over
    digest = (digest_key or k.platform).sign(signed, padding.PKCS1v15(), hashes.SHA1())
    return {"content": content, "msg_type": msg_type, "data_digest": base64.b64encode(digest).decode()}


def form(fields: dict[str, str] | list[tuple[str, str]]) -> bytes:
    return urlencode(fields).encode("ascii")


def head_179() -> PayExchangeInfoHead:
    return PayExchangeInfoHead(
        guid="9D55BA71-55DE-41F4-8B50-C36C83B3B419",
        inital_request="<xml><out_trade_no>T1</out_trade_no></xml>",
        inital_response="<xml><result_code>SUCCESS</result_code></xml>",
        ebp_code="3301964J31",
        pay_code="312228034T",
        pay_transaction_id="PAY-1",
        total_amount=Decimal("864.07"),
        ver_dept="3",
        pay_type="4",
        trading_time="20260601120000",
    )


def items_179() -> list[PayExchangeInfoItem]:
    return [
        PayExchangeInfoItem(
            order_no=ORDER_NO,
            goods_info=[GoodsInfo(gname="麦卢卡蜂蜜", item_link="https://shop.example.cn/item/1")],
            recp_account="6222020200012345678",
            recp_code="3301964J31",
            recp_name="杭州示例跨境电商有限公司",
        )
    ]


def payload_179(cert: bytes | None = None) -> str:
    return build_payload(
        head_179(),
        items_179(),
        session_id=SESSION_ID,
        signer=keys().software_signer(cert),
        service_time=SERVICE_TIME,
    )


def open_req(order_no: str = ORDER_NO, session: str = SESSION_ID, service_time: Any = SERVICE_TIME) -> str:
    return json.dumps({"orderNo": order_no, "sessionID": session, "serviceTime": service_time})


# --------------------------------------------------------------------------- expectations

#: every entry point that reads an XML document, and how each reports an XML-level refusal
XML_ENTRIES = (
    "parse_untrusted",
    "messages.parse",
    "envelope.unwrap",
    "envelope.parse_dxp_reply",
    "mo.parse_mo",
    "soap.extract_return",
    "signing.verify",
    "validation.validate",
    "cli.validate",
    "cli.receipt",
    "push.handle",
    "push.dxp",
)
ALL_ENTRIES = (
    *XML_ENTRIES,
    "push.wsgi",
    "push.decode",
    "push.document",
    "cli.verify",
    "pay179.handle_body",
    "pay179.parse_reply",
    "signing.verify_payload",
    "node.parse_transfer_reply",
    "signing.sign",
)


def raises(error: str, code: str) -> dict[str, Any]:
    return {"raises": error, "code": code}


def refused(status: int, ack: str) -> dict[str, Any]:
    return {"status": status, "ack": ack}


def cli(code: str) -> dict[str, Any]:
    return {"exit": 1, "code": code}


OK: dict[str, Any] = {"ok": True}


def xml_refusal(error: str, code: str, ack: str = "S01") -> dict[str, dict[str, Any]]:
    """A document refused before any reading: every XML entry point answers the same error."""
    out: dict[str, dict[str, Any]] = {}
    for entry in XML_ENTRIES:
        if entry.startswith("push."):
            out[entry] = refused(400, ack)
        elif entry.startswith("cli."):
            out[entry] = cli(code)
        else:
            out[entry] = raises(error, code)
    return out


@attrs.frozen
class Item:
    name: str
    data: bytes
    about: str
    feeds: dict[str, dict[str, Any]]
    template: str | None = None
    options: dict[str, Any] = attrs.field(factory=dict)


# --------------------------------------------------------------------------- the corpus


def xml_items() -> Iterator[Item]:
    yield Item(
        "xml-dtd-internal.xml",
        b'<?xml version="1.0"?><!DOCTYPE CEB312Message [<!ELEMENT CEB312Message ANY>]><CEB312Message/>',
        "an internal DTD subset",
        xml_refusal("UnsafeXmlError", "xml.unsafe"),
    )
    yield Item(
        "xml-xxe-file.xml",
        f'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "{CANARY_FILE}">]>'
        '<CEB312Message xmlns="http://www.chinaport.gov.cn/ceb">&x;</CEB312Message>'.encode(),
        "an external entity pointing at a local file (the canary)",
        xml_refusal("UnsafeXmlError", "xml.unsafe"),
        template="utf-8",
    )
    yield Item(
        "xml-xxe-http.xml",
        f'<!DOCTYPE r [<!ENTITY x SYSTEM "{CANARY_URL}">]><r>&x;</r>'.encode(),
        "an external entity pointing at a network address (the listener)",
        xml_refusal("UnsafeXmlError", "xml.unsafe"),
        template="utf-8",
    )
    yield Item(
        "xml-dtd-external.xml",
        f'<?xml version="1.0"?><!DOCTYPE r SYSTEM "{CANARY_URL}"><r/>'.encode(),
        "an external DTD on the network",
        xml_refusal("UnsafeXmlError", "xml.unsafe"),
        template="utf-8",
    )
    yield Item(
        "xml-param-entity.xml",
        f'<!DOCTYPE r [<!ENTITY % p SYSTEM "{CANARY_FILE}"> %p;]><r/>'.encode(),
        "an external parameter entity (the blind-XXE form)",
        xml_refusal("UnsafeXmlError", "xml.unsafe"),
        template="utf-8",
    )
    laughs = ['<!ENTITY a0 "lol">'] + [f'<!ENTITY a{i} "{f"&a{i - 1};" * 10}">' for i in range(1, 10)]
    yield Item(
        "xml-billion-laughs.xml",
        f'<?xml version="1.0"?><!DOCTYPE r [{"".join(laughs)}]><r>&a9;</r>'.encode(),
        "exponential entity expansion (10^9 'lol')",
        xml_refusal("UnsafeXmlError", "xml.unsafe"),
    )
    yield Item(
        "xml-quadratic-blowup.xml",
        f'<!DOCTYPE r [<!ENTITY a "{"x" * 20000}">]><r>{"&a;" * 2000}</r>'.encode(),
        "quadratic blowup: one 20 kB entity referenced 2000 times",
        xml_refusal("UnsafeXmlError", "xml.unsafe"),
    )
    yield Item(
        "xml-doctype-after-bom-pi-comment.xml",
        b'\xef\xbb\xbf <?xml version="1.0"?>\n<?pi x?><!-- c --><!DOCTYPE r [<!ENTITY x "y">]><r>&x;</r>',
        "a DTD after a BOM, whitespace, a PI and a comment",
        xml_refusal("UnsafeXmlError", "xml.unsafe"),
    )
    utf16_xxe = (
        f'<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE r [<!ENTITY x SYSTEM "{CANARY_FILE}">]>'
        '<CEB312Message xmlns="http://www.chinaport.gov.cn/ceb">&x;</CEB312Message>'
    )
    yield Item(
        "xml-xxe-utf16.xml",
        utf16_xxe.encode("utf-16"),
        "an external entity in a UTF-16 document (the byte-level DOCTYPE check cannot see it)",
        xml_refusal("UnsafeXmlError", "xml.unsafe"),
        template="utf-16",
    )
    yield Item(
        "xml-param-entity-utf16le.xml",
        f'<?xml version="1.0" encoding="UTF-16LE"?><!DOCTYPE r [<!ENTITY % p SYSTEM "{CANARY_URL}"> %p;]>'
        "<r/>".encode("utf-16-le"),
        "an external parameter entity on the network, in BOM-less UTF-16LE: libxml2 tries to load it and "
        "only its no_network setting stops it (refused as malformed: 'Attempt to load network entity')",
        xml_refusal("XmlError", "xml."),
        template="utf-16-le",
    )
    pe_file = (
        f'<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE r [<!ENTITY % p SYSTEM "{CANARY_FILE}"> %p;]><r/>'
    )
    yield Item(
        "xml-param-entity-file-utf16.xml",
        pe_file.encode("utf-16"),
        "an external parameter entity naming a local file, in UTF-16",
        xml_refusal("UnsafeXmlError", "xml.unsafe"),
        template="utf-16",
    )
    yield Item(
        "xml-dtd-external-file-utf16.xml",
        f'<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE r SYSTEM "{CANARY_FILE}"><r/>'.encode("utf-16"),
        "an external DTD naming a local file, in UTF-16",
        xml_refusal("UnsafeXmlError", "xml.unsafe"),
        template="utf-16",
    )
    yield Item(
        "xml-billion-laughs-utf16.xml",
        f'<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE r [{"".join(laughs)}]><r>&a9;</r>'.encode(
            "utf-16"
        ),
        "billion laughs in UTF-16: libxml2 reads the DTD and stops at its amplification limit before our "
        "DTD check runs, so this is refused as malformed rather than unsafe",
        xml_refusal("XmlError", "xml."),
    )
    yield Item(
        "xml-dtd-utf32.xml",
        '<?xml version="1.0" encoding="UTF-32"?><!DOCTYPE r [<!ENTITY x "y">]><r>&x;</r>'.encode("utf-32"),
        "a DTD in UTF-32",
        xml_refusal("UnsafeXmlError", "xml.unsafe"),
    )
    yield Item(
        "xml-dtd-ebcdic.xml",
        '<?xml version="1.0" encoding="IBM037"?><!DOCTYPE r [<!ENTITY x "y">]><r>&x;</r>'.encode("cp037"),
        "a DTD in EBCDIC",
        xml_refusal("MalformedXmlError", "xml.malformed"),
    )
    xinclude = ceb312().replace(
        b"<ceb:returnInfo>",
        f'<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="{CANARY_FILE}" parse="text"/>'
        "<ceb:returnInfo>".encode(),
    )
    feeds = xml_refusal("XmlError", "xml.")
    feeds["parse_untrusted"] = raises("UnsafeXmlError", "xml.unsafe")
    feeds["push.handle"] = {"status": 400}
    feeds["push.dxp"] = {"status": 400}
    yield Item(
        "xml-xinclude-ceb.xml",
        xinclude,
        "an XInclude of the canary inside a CEB312 receipt",
        feeds,
        template="utf-8",
    )
    mo_xinclude = mo_result().replace(
        b"<chkMark>",
        f'<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="{CANARY_FILE}" parse="text"/>'
        "<chkMark>".encode(),
    )
    feeds = {
        "parse_untrusted": raises("UnsafeXmlError", "xml.unsafe"),
        "mo.parse_mo": raises("UnsafeXmlError", "xml.unsafe"),
        "cli.receipt": cli("xml.unsafe"),
        "push.handle": refused(400, "S01"),
    }
    yield Item(
        "xml-xinclude-mo.xml",
        mo_xinclude,
        "an XInclude of the canary inside a <mo> RESULT receipt",
        feeds,
        template="utf-8",
    )
    yield Item(
        "xml-deep-nesting.xml",
        b'<CEB312Message xmlns="http://www.chinaport.gov.cn/ceb">'
        + b"<OrderReturn>" * 5000
        + b"</OrderReturn>" * 5000
        + b"</CEB312Message>",
        "5000 nested elements (libxml2 stops at 256)",
        xml_refusal("OversizedInputError", "xml.depth"),
    )
    truncated = ceb312()
    yield Item(
        "xml-truncated.xml",
        truncated[: len(truncated) // 2],
        "a receipt cut in half",
        xml_refusal("MalformedXmlError", "xml.malformed"),
    )
    yield Item(
        "xml-truncated-in-tag.xml",
        truncated[: truncated.index(b"<ceb:orderNo") + 7],
        "a receipt cut inside a start tag",
        xml_refusal("MalformedXmlError", "xml.malformed"),
    )
    yield Item(
        "xml-invalid-utf8.xml",
        ceb312().replace("新增申报成功".encode(), b"\xe6\x96\xb0\xff\xfe"),
        "invalid UTF-8 bytes in a text node",
        xml_refusal("MalformedXmlError", "xml.malformed"),
    )
    yield Item(
        "xml-overlong-utf8.xml",
        ceb312().replace(b"<ceb:returnStatus>2", b"<ceb:returnStatus>\xc0\xb2"),
        "an overlong UTF-8 encoding of '2'",
        xml_refusal("MalformedXmlError", "xml.malformed"),
    )
    yield Item(
        "xml-surrogate-utf8.xml",
        ceb312().replace(b"<ceb:returnInfo>", b"<ceb:returnInfo>\xed\xa0\x80"),
        "a UTF-8-encoded surrogate",
        xml_refusal("MalformedXmlError", "xml.malformed"),
    )
    yield Item(
        "xml-mislabelled-utf16.xml",
        ceb312().replace(b'encoding="UTF-8"', b'encoding="UTF-16"'),
        "UTF-8 bytes that declare UTF-16",
        xml_refusal("MalformedXmlError", "xml.malformed"),
    )
    yield Item(
        "xml-mislabelled-gbk.xml",
        ceb312().replace(b'encoding="UTF-8"', b'encoding="GBK"'),
        "UTF-8 Chinese text that declares GBK",
        xml_refusal("MalformedXmlError", "xml.malformed"),
    )
    yield Item(
        "xml-mislabelled-ascii.xml",
        ceb312().replace(b'encoding="UTF-8"', b'encoding="US-ASCII"'),
        "UTF-8 Chinese text that declares US-ASCII",
        xml_refusal("MalformedXmlError", "xml.malformed"),
    )
    yield Item(
        "xml-unknown-encoding.xml",
        ceb312().replace(b'encoding="UTF-8"', b'encoding="x-evil-7"'),
        "an encoding libxml2 does not know",
        xml_refusal("MalformedXmlError", "xml.malformed"),
    )
    yield Item(
        "xml-nul-byte.xml",
        ceb312().replace(b"<ceb:returnInfo>", b"<ceb:returnInfo>\x00"),
        "a NUL byte in a text node",
        xml_refusal("MalformedXmlError", "xml.malformed"),
    )
    yield Item(
        "xml-whitespace-only.xml",
        b" \r\n\t \n",
        "no document at all",
        {k: v for k, v in xml_refusal("MalformedXmlError", "xml.empty").items() if k != "push.dxp"},
    )
    yield Item(
        "xml-undeclared-entity.xml",
        ceb312().replace(b"<ceb:returnInfo>", b"<ceb:returnInfo>&secret;"),
        "a reference to an entity nobody declared",
        xml_refusal("MalformedXmlError", "xml.malformed"),
    )
    yield Item(
        "xml-two-roots.xml",
        ceb312() + b"<CEB312Message/>",
        "a second root element after the receipt",
        xml_refusal("MalformedXmlError", "xml.malformed"),
    )


def ceb_items() -> Iterator[Item]:
    bad_gnum = {
        "messages.parse": raises("UnexpectedDocumentError", "xml.unexpected"),
        "validation.validate": {"report_error": "xml.unexpected"},
        "cli.validate": cli("xml.unexpected"),
        "cli.receipt": cli("xml.unexpected"),
        "push.handle": refused(400, "S05"),
        "push.dxp": refused(400, "S05"),
        "push.document": refused(400, "S05"),
    }
    yield Item(
        "ceb816-gnum-two-signs.xml",
        ceb816("+-1"),
        "a CEB816 tax receipt whose gnum is '+-1'",
        dict(bad_gnum),
    )
    yield Item(
        "ceb816-gnum-5000-digits.xml",
        ceb816("9" * 5000),
        "a CEB816 tax receipt whose gnum has 5000 digits",
        dict(bad_gnum),
    )
    unexpected = {
        "messages.parse": raises("UnexpectedDocumentError", "xml.unexpected"),
        "validation.validate": {"report_error": "xml.unexpected"},
        "cli.receipt": cli("xml.unexpected"),
        "push.handle": refused(400, "S05"),
        "push.dxp": refused(400, "S05"),
        "push.document": refused(400, "S05"),
    }
    yield Item(
        "ceb312-unknown-element.xml",
        ceb312().replace(b"<ceb:returnInfo>", b"<ceb:evil>1</ceb:evil><ceb:returnInfo>"),
        "an element the model does not know",
        dict(unexpected),
    )
    yield Item(
        "ceb312-repeated-element.xml",
        ceb312().replace(
            b"<ceb:returnStatus>2", b"<ceb:returnStatus>2</ceb:returnStatus><ceb:returnStatus>3"
        ),
        "returnStatus given twice",
        dict(unexpected),
    )
    yield Item(
        "ceb312-bad-timestamp.xml",
        ceb312().replace(b"<ceb:returnTime>20260601100000123", b"<ceb:returnTime>20261341100000123"),
        "month 13 in returnTime",
        dict(unexpected),
    )
    yield Item(
        "ceb312-foreign-namespace.xml",
        ceb312().replace(b"<ceb:returnInfo>", b'<x:evil xmlns:x="urn:evil">1</x:evil><ceb:returnInfo>'),
        "an element in a foreign namespace",
        dict(unexpected),
    )
    yield Item(
        "ceb312-missing-required.xml",
        ceb312().replace(b"<ceb:orderNo>" + ORDER_NO.encode() + b"</ceb:orderNo>", b""),
        "orderNo missing",
        dict(unexpected),
    )
    foreign_root = {
        "messages.parse": raises("UnexpectedDocumentError", "xml.unexpected"),
        "validation.validate": raises("UnexpectedDocumentError", "xml.unexpected"),
        "cli.validate": cli("xml.unexpected"),
        "cli.receipt": cli("xml.unexpected"),
        "push.handle": refused(400, "S04"),
        "push.document": refused(400, "S04"),
    }
    yield Item(
        "ceb-foreign-root.xml",
        b'<?xml version="1.0"?><CEB312Message xmlns="urn:not-customs"><OrderReturn/></CEB312Message>',
        "a CEB-looking root in a foreign namespace",
        foreign_root,
    )
    declaration = {
        "cli.receipt": cli("xml.unexpected.receipt"),
        "push.handle": refused(400, "S05"),
        "push.dxp": refused(400, "S05"),
        "push.document": refused(400, "S05"),
    }
    yield Item(
        "ceb311-as-receipt.xml",
        ceb311(),
        "a declaration pushed where a receipt is expected",
        declaration,
    )


def mo_items() -> Iterator[Item]:
    mo_unexpected = {
        "mo.parse_mo": raises("UnexpectedDocumentError", "xml.unexpected.mo"),
        "cli.receipt": cli("xml.unexpected"),
        "push.handle": refused(400, "S05"),
        "push.document": refused(400, "S05"),
    }
    yield Item(
        "mo-no-head.xml",
        b'<?xml version="1.0" encoding="UTF-8"?><mo version="1.0.0"><body><list/></body></mo>',
        "a <mo> without <head>",
        dict(mo_unexpected),
    )
    yield Item(
        "mo-two-bodies.xml",
        mo_result().replace(b"</mo>", b"<body/></mo>"),
        "a <mo> with two bodies",
        dict(mo_unexpected),
    )
    yield Item(
        "mo-wrong-shape.xml",
        b'<?xml version="1.0"?><mo version="1.0.0"><head><businessType>RESULT</businessType></head>'
        b"<body><evil/></body></mo>",
        "a RESULT whose body is not a result list",
        dict(mo_unexpected),
    )
    yield Item(
        "mo-text-in-list.xml",
        mo_result().replace(b"<list>", b"<list>text where a list belongs"),
        "text inside a list wrapper",
        dict(mo_unexpected),
    )
    number = {
        "mo.parse_mo": raises("UnexpectedDocumentError", "xml.unexpected.mo"),
        "push.handle": refused(400, "S05"),
        "push.document": refused(400, "S05"),
    }
    yield Item(
        "mo-int-exponent.xml",
        MO_IMPORTORDER.format(goods_order="1E+5000", price="3.3").encode(),
        "an IMPORTORDER whose goodsOrder is 1E+5000",
        dict(number),
    )
    yield Item(
        "mo-decimal-exponent.xml",
        MO_IMPORTORDER.format(goods_order="1", price="1E+400").encode(),
        "an IMPORTORDER whose unitPrice is 1E+400",
        dict(number),
    )
    yield Item(
        "mo-bad-number.xml",
        MO_IMPORTORDER.format(goods_order="one", price="3.3").encode(),
        "an IMPORTORDER whose goodsOrder is not a number",
        dict(number),
    )


def dxp_items() -> Iterator[Item]:
    inner = ceb312()
    good = dxp(inner).decode()
    data_start, data_end = good.index("<dxp:Data>") + 10, good.index("</dxp:Data>")

    def envelope(error: str, code: str, ack: str = "S05") -> dict[str, dict[str, Any]]:
        return {
            "envelope.unwrap": raises(error, code),
            "cli.validate": cli(code),
            "cli.receipt": cli(code),
            "push.handle": refused(400, ack),
            "push.document": refused(400, ack),
        }

    yield Item(
        "dxp-data-garbage-base64.xml",
        (good[:data_start] + "PD94bWwg!!**$$" + good[data_start + 14 :]).encode(),
        "Data holds characters outside base64",
        envelope("EnvelopeError", "envelope.base64"),
    )
    yield Item(
        "dxp-data-bad-padding.xml",
        (good[:data_start] + good[data_start : data_end - 3] + good[data_end:]).encode(),
        "Data with its last three characters cut off",
        envelope("EnvelopeError", "envelope.base64"),
    )
    yield Item(
        "dxp-data-empty.xml",
        (good[:data_start] + good[data_end:]).encode(),
        "an empty Data",
        envelope("EnvelopeError", "envelope.data"),
    )
    yield Item(
        "dxp-missing-transinfo.xml",
        good.replace(good[good.index("<dxp:TransInfo>") : good.index("<dxp:Data>")], "").encode(),
        "no TransInfo",
        envelope("EnvelopeError", "envelope.structure"),
    )
    yield Item(
        "dxp-two-data.xml",
        good.replace("</dxp:DxpMsg>", "<dxp:Data>PHgvPg==</dxp:Data></dxp:DxpMsg>").encode(),
        "Data given twice (which payload is the real one?)",
        envelope("EnvelopeError", "envelope.structure"),
    )
    yield Item(
        "dxp-bad-creattime.xml",
        good.replace("2026-06-01T10:00:00", "2026-02-30T10:00:00").encode(),
        "CreatTime on 30 February",
        envelope("EnvelopeError", "envelope.datetime"),
    )
    yield Item(
        "dxp-foreign-element.xml",
        good.replace("<dxp:Data>", '<x:evil xmlns:x="urn:evil"/><dxp:Data>').encode(),
        "a foreign element in the envelope",
        envelope("EnvelopeError", "envelope.structure"),
    )
    yield Item(
        "dxp-sv-missing-svno.xml",
        dxp_sv(inner, sv_no=""),
        "a DxpMsgSv without SvNo",
        envelope("EnvelopeError", "envelope.structure"),
    )
    yield Item(
        "dxp-payload-dtd.xml",
        dxp(b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x "y">]><CEB312Message>&x;</CEB312Message>'),
        "a well-formed envelope whose payload carries a DTD",
        {
            "envelope.unwrap": OK,
            "cli.validate": cli("xml.unsafe"),
            "cli.receipt": cli("xml.unsafe"),
            "push.handle": refused(400, "S01"),
            "push.document": refused(400, "S01"),
        },
    )
    yield Item(
        "dxp-payload-xxe.xml",
        dxp(f'<!DOCTYPE r [<!ENTITY x SYSTEM "{CANARY_FILE}">]><CEB312Message>&x;</CEB312Message>'.encode()),
        "a well-formed envelope whose payload is an XXE (the canary URL is inside the base64: never read)",
        {"envelope.unwrap": OK, "cli.receipt": cli("xml.unsafe"), "push.handle": refused(400, "S01")},
    )
    rep = {"envelope.parse_dxp_reply": raises("EnvelopeError", "envelope.")}
    yield Item(
        "dxprep-no-response.xml",
        DXP_REP.format(response="").encode().replace(b"<dxp:Response></dxp:Response>", b""),
        "a DxpRep without Response",
        dict(rep),
    )
    yield Item("dxprep-bad-date.xml", dxp_rep(notice="yesterday"), "NoticeTime is not a date", dict(rep))
    yield Item("dxprep-empty-code.xml", dxp_rep(code=""), "an empty ResponseCode", dict(rep))


def signature_items() -> Iterator[Item]:
    k = keys()
    signed = signed_ceb311()
    text = signed.decode("utf-8")
    start, end = text.index("<ds:Signature"), text.index("</ds:Signature>") + len("</ds:Signature>")
    signature = text[start:end]

    def sig(error: str, code: str, reason: str) -> dict[str, dict[str, Any]]:
        return {
            "signing.verify": raises(error, code),
            "cli.verify": {"exit": 1, "code": code, "reason": reason},
        }

    order_no = text[text.index("<ceb:orderNo>") + 13 : text.index("</ceb:orderNo>")]
    yield Item(
        "sig-one-byte-changed.xml",
        text.replace(order_no, order_no[:-1] + chr(ord(order_no[-1]) ^ 1)).encode(),
        "one character of orderNo changed after signing",
        sig("DigestMismatch", "verify.digest.mismatch", "digest"),
    )
    yield Item(
        "sig-second-signature.xml",
        text.replace("</ds:Signature>", "</ds:Signature>" + signature, 1).encode(),
        "a second Signature next to the first",
        sig("SignatureStructureError", "verify.structure.several", "several"),
    )
    yield Item(
        "sig-reference-to-id.xml",
        text.replace('URI=""', 'URI="#x"').replace("<ceb:Order>", '<ceb:Order Id="x">').encode(),
        'a Reference URI="#x" pointing at one Order',
        sig("SignatureStructureError", "verify.structure.reference-uri", "reference-uri"),
    )
    closing = text.rindex("</ceb:CEB311Message>")
    yield Item(
        "sig-extra-root-child.xml",
        (text[:closing] + "<ceb:Order><ceb:evil/></ceb:Order>" + text[closing:]).encode(),
        "an extra Order appended to the root after signing",
        sig("DigestMismatch", "verify.digest", "digest"),
    )
    moved = text[:start] + text[end:]
    head_end = moved.index("</ceb:OrderHead>")
    yield Item(
        "sig-moved-into-child.xml",
        (moved[:head_end] + signature + moved[head_end:]).encode(),
        "the Signature moved into OrderHead",
        sig("SignatureStructureError", "verify.structure.not-child-of-root", "not-child-of-root"),
    )
    body_start = text.index("<ceb:Order>")
    body_end = text.index("</ceb:Order>") + len("</ceb:Order>")
    original_order = text[body_start:body_end]
    forged = original_order.replace(order_no, "FORGED0000000001")
    wrapped_sig = signature.replace(
        "</ds:Signature>", f"<ds:Object>{original_order}</ds:Object></ds:Signature>"
    )
    yield Item(
        "sig-wrapping-object.xml",
        (text[:body_start] + forged + text[body_end:start] + wrapped_sig + text[end:]).encode(),
        "XSW: the signed Order hidden in ds:Object, a forged Order in its place",
        sig("SignatureStructureError", "verify.structure.object", "object"),
    )
    cert_b64 = base64.b64encode(k.signer_cert).decode()
    assert cert_b64 in text
    yield Item(
        "sig-certificate-of-another-key.xml",
        text.replace(cert_b64, base64.b64encode(k.other_cert).decode()).encode(),
        "KeyInfo swapped for a certificate of another key",
        sig("SignatureMismatch", "verify.signature.mismatch", "signature"),
    )
    yield Item(
        "sig-expired-certificate.xml",
        signed_ceb311(k.expired_cert),
        "signed with a certificate that expired in 2001",
        sig("CertificateNotTrusted", "verify.certificate.expired", "expired"),
    )
    yield Item(
        "sig-not-yet-valid-certificate.xml",
        signed_ceb311(k.future_cert),
        "signed with a certificate valid only from 2090",
        sig("CertificateNotTrusted", "verify.certificate.not-yet-valid", "not-yet-valid"),
    )
    value_start = text.index("<ds:SignatureValue>") + len("<ds:SignatureValue>")
    flipped = "A" if text[value_start + 10] != "A" else "B"
    yield Item(
        "sig-signature-value-changed.xml",
        (text[: value_start + 10] + flipped + text[value_start + 11 :]).encode(),
        "one character of SignatureValue changed",
        sig("SignatureMismatch", "verify.signature.mismatch", "signature"),
    )
    yield Item(
        "sig-hmac-downgrade.xml",
        text.replace(
            'Algorithm="http://www.w3.org/2000/09/xmldsig#rsa-sha1"',
            'Algorithm="http://www.w3.org/2000/09/xmldsig#hmac-sha1"',
        ).encode(),
        "SignatureMethod changed to HMAC-SHA1",
        sig("AlgorithmNotAllowed", "verify.algorithm.unknown", "unknown-algorithm"),
    )
    yield Item(
        "sig-extra-transform.xml",
        text.replace(
            "</ds:Transforms>",
            '<ds:Transform Algorithm="http://www.w3.org/TR/1999/REC-xpath-19991116">'
            "<ds:XPath>not(ancestor-or-self::ceb:Order)</ds:XPath></ds:Transform></ds:Transforms>",
        ).encode(),
        "an XPath transform that would hide the Orders",
        sig("SignatureStructureError", "verify.structure.transforms", "transforms"),
    )
    yield Item(
        "sig-c14n-with-comments.xml",
        text.replace("REC-xml-c14n-20010315", "REC-xml-c14n-20010315#WithComments", 1).encode(),
        "CanonicalizationMethod changed to C14N with comments",
        sig("AlgorithmNotAllowed", "verify.algorithm.c14n", "c14n"),
    )
    digest_start = text.index("<ds:DigestValue>") + len("<ds:DigestValue>")
    yield Item(
        "sig-digest-garbage-base64.xml",
        (text[:digest_start] + "!!" + text[digest_start + 2 :]).encode(),
        "DigestValue with characters outside base64",
        sig("SignatureStructureError", "verify.structure.base64", "base64"),
    )
    yield Item(
        "sig-certificate-not-der.xml",
        text.replace(cert_b64, base64.b64encode(b"not a certificate at all").decode()).encode(),
        "X509Certificate holding valid base64 of something that is not a certificate",
        sig("VerificationError", "verify.", "certificate-unreadable"),
    )
    yield Item(
        "sig-missing.xml",
        (text[:start] + text[end:]).encode(),
        "the Signature removed",
        sig("SignatureStructureError", "verify.structure.missing", "missing"),
    )
    pinned = raises("CertificateNotTrusted", "verify.certificate.mismatch")
    yield Item(
        "sig-valid-but-other-pinned.xml",
        signed,
        "a valid signature checked against another pinned certificate",
        {"signing.verify": pinned},
        options={"certificate": "other"},
    )
    yield Item(
        "sig-valid-but-untrusted.xml",
        signed,
        "a valid signature whose certificate does not chain to the trusted one",
        {"signing.verify": raises("CertificateNotTrusted", "verify.certificate.untrusted")},
        options={"trusted": "other"},
    )


def push_items() -> Iterator[Item]:
    k = keys()
    receipt = ceb312()
    good = push_form(receipt)

    def push(ack: str, code: str, *, decode: dict[str, Any] | None = None) -> dict[str, dict[str, Any]]:
        return {
            "push.handle": refused(400, ack),
            "push.wsgi": refused(400, ack),
            "push.decode": decode if decode is not None else raises("PushRejected", code),
        }

    yield Item(
        "push-content-garbage-base64.txt",
        form({**good, "content": "PD94b!!$$" + good["content"][9:]}),
        "content with characters outside base64",
        push("S05", "transport.push.base64"),
    )
    yield Item(
        "push-content-not-blocks.txt",
        form({**good, "content": base64.b64encode(b"0123456789").decode()}),
        "content that decodes to 10 bytes: no whole AES block",
        push("S05", "transport.push.decrypt"),
    )
    wrong = push_form(receipt, aes=k.wrong_aes)
    yield Item(
        "push-wrong-aes-key.txt",
        form(wrong),
        "encrypted with another AES key (bad padding under ours)",
        push("S05", "transport.push.decrypt"),
    )
    invalid = {"digest_valid": False}
    yield Item(
        "push-forged-digest.txt",
        form(push_form(receipt, digest_key=k.forger)),
        "a digest made with a key that is not the platform's",
        push("S02", "verify.digest_signature", decode=invalid),
    )
    other = push_form(mo_result(), msg_type=MSG_TYPE_RESULT)
    yield Item(
        "push-replayed-digest.txt",
        form({**good, "data_digest": other["data_digest"]}),
        "a genuine digest replayed onto another document",
        push("S02", "verify.digest_signature", decode=invalid),
    )
    yield Item(
        "push-digest-over-ciphertext.txt",
        form(push_form(receipt, digest_over=good["content"].encode())),
        "a genuine platform signature, but over the ciphertext instead of the plaintext",
        push("S02", "verify.digest_signature", decode=invalid),
    )
    yield Item(
        "push-no-digest.txt",
        form({"content": good["content"], "msg_type": good["msg_type"]}),
        "no data_digest at all",
        push("S02", "transport.push.digest_missing", decode=invalid),
    )
    yield Item(
        "push-digest-garbage.txt",
        form({**good, "data_digest": "%%not-base64%%"}),
        "a data_digest that is not base64",
        push("S02", "verify.digest_signature", decode=invalid),
    )
    yield Item(
        "push-field-twice.txt",
        form([*good.items(), ("content", good["content"])]),
        "content given twice",
        push("S12", "transport.push.field"),
    )
    yield Item(
        "push-both-aliases.txt",
        form({**good, "msgType": good["msg_type"]}),
        "msg_type and msgType both given",
        push("S12", "transport.push.field"),
    )
    yield Item(
        "push-no-msg-type.txt",
        form({"content": good["content"], "data_digest": good["data_digest"]}),
        "no msg_type",
        push("S12", "transport.push.field"),
    )
    yield Item(
        "push-too-many-fields.txt",
        form([*good.items(), *((f"f{i}", "x") for i in range(40))]),
        "43 form fields",
        push("S12", "transport.push.form"),
    )
    yield Item(
        "push-body-invalid-utf8.txt",
        form(good) + b"&note=\xff\xfe",
        "a form body that is not UTF-8",
        push("S12", "transport.push.form"),
    )
    yield Item(
        "push-percent-invalid-utf8.txt",
        form(good) + b"&note=%FF%FE",
        "a percent-encoded field that is not UTF-8",
        push("S12", "transport.push.form"),
    )
    crash = {"push.handle": refused(400, "S05"), "push.wsgi": refused(400, "S05"), "push.decode": OK}
    yield Item(
        "push-ceb816-gnum-two-signs.txt",
        form(push_form(ceb816("+-1"))),
        "a genuine push (right key, right digest) of a CEB816 whose gnum is '+-1'",
        crash,
    )


def openreq_items() -> Iterator[Item]:
    def answer(code: str) -> dict[str, dict[str, Any]]:
        return {"pay179.handle_body": {"answer": code}}

    yield Item("openreq-empty.txt", b"", "an empty body", answer("20001"))
    yield Item("openreq-not-a-form.txt", b"\x00\x01\x02garbage", "not a form", answer("20001"))
    yield Item("openreq-invalid-utf8.txt", b"openReq=\xff\xfe", "a body that is not UTF-8", answer("20001"))
    twice = form([("openReq", open_req()), ("openReq", open_req())])
    yield Item("openreq-twice.txt", twice, "openReq given twice", answer("20001"))
    yield Item("openreq-not-json.txt", form({"openReq": "{orderNo:1"}), "not JSON", answer("20002"))
    yield Item("openreq-array.txt", form({"openReq": "[1,2,3]"}), "a JSON array", answer("20002"))
    dup = '{"orderNo":"A","orderNo":"B","sessionID":"S","serviceTime":1}'
    yield Item("openreq-duplicate-key.txt", form({"openReq": dup}), "orderNo given twice", answer("20002"))
    yield Item(
        "openreq-deep-nesting.txt",
        b"openReq=" + b"[" * 2000 + b"]" * 2000,
        "2000 nested JSON arrays (4 kB, under the 16 kB body limit)",
        answer("20002"),
    )
    yield Item(
        "openreq-service-time-5000-digits.txt",
        form({"openReq": open_req(service_time="9" * 5000)}),
        "serviceTime as a string of 5000 digits",
        answer("20003"),
    )
    yield Item(
        "openreq-session-with-quote.txt",
        form({"openReq": open_req(session='S","x":"y')}),
        "a sessionID that would break out of the sign string",
        answer("20003"),
    )
    yield Item(
        "openreq-service-time-float.txt",
        form({"openReq": open_req(service_time=1.5)}),
        "serviceTime as a float",
        answer("20003"),
    )
    yield Item(
        "openreq-escaped-garbage.txt",
        form({"openReq": "&quot;&lt;&gt;&amp;&#0;&#xD800;"}),
        "HTML escapes that decode to garbage",
        answer("20002"),
    )


def reply179_items() -> Iterator[Item]:
    unreadable = {"pay179.parse_reply": raises("RemoteRejected", "pay179.reply.unreadable")}
    yield Item("reply179-not-json.json", b"<html>502 Bad Gateway</html>", "an HTML error page", unreadable)
    yield Item("reply179-not-utf8.json", b'{"code":"\xff"}', "not UTF-8", unreadable)
    yield Item("reply179-array.json", b'["code", "10000"]', "a JSON array", unreadable)
    yield Item("reply179-no-code.json", b'{"message":"ok"}', "no code", unreadable)
    yield Item("reply179-code-bool.json", b'{"code":true}', "code is a boolean", unreadable)
    yield Item(
        "reply179-deep-nesting.json",
        b"[" * 3000 + b"]" * 3000,
        "3000 nested JSON arrays",
        dict(unreadable),
    )


def payload_items() -> Iterator[Item]:
    k = keys()
    good = payload_179()

    def payload(error: str, code: str) -> dict[str, dict[str, Any]]:
        return {"signing.verify_payload": raises(error, code)}

    yield Item(
        "payload-amount-changed.json",
        good.replace('"totalAmount":864.07', '"totalAmount":1.00').encode(),
        "totalAmount changed after signing",
        payload("SignatureMismatch", "verify.signature.mismatch"),
    )
    yield Item(
        "payload-signvalue-garbage.json",
        good.replace('"signValue":"', '"signValue":"!!').encode(),
        "signValue that is not base64",
        payload("SignatureStructureError", "verify.structure.base64"),
    )
    yield Item(
        "payload-missing-member.json",
        good.replace('"certNo"', '"certNumber"').encode(),
        "certNo missing",
        payload("SignatureStructureError", "verify.payload.missing"),
    )
    yield Item(
        "payload-duplicate-member.json",
        good.replace('{"sessionID":', '{"sessionID":"other","sessionID":', 1).encode(),
        "sessionID given twice",
        payload("SignatureStructureError", "verify.payload.json"),
    )
    yield Item(
        "payload-trailing-text.json",
        (good + '{"x":1}').encode(),
        "a second object after the payload",
        payload("SignatureStructureError", "verify.payload.json"),
    )
    yield Item(
        "payload-member-type.json",
        good.replace('"payExchangeInfoLists":[', '"payExchangeInfoLists":{"x":[')
        .replace('],"serviceTime"', ']},"serviceTime"')
        .encode(),
        "payExchangeInfoLists is an object",
        payload("SignatureStructureError", "verify.payload.type"),
    )
    yield Item(
        "payload-cert-no-mismatch.json",
        good.replace(f'"certNo":"{keys().software_signer().key_name}"', '"certNo":"00ff"').encode(),
        "a certNo that is not the certificate's serial",
        payload("CertificateNotTrusted", "verify.certificate"),
    )
    yield Item(
        "payload-expired-certificate.json",
        payload_179(k.expired_cert).encode(),
        "signed with the expired certificate",
        payload("CertificateNotTrusted", "verify.certificate.expired"),
        options={"certificate": "expired"},
    )
    yield Item(
        "payload-invalid-utf8.json",
        good.encode().replace("麦卢卡".encode(), b"\xff\xfe\xfd"),
        "bytes that are not UTF-8",
        payload("SignatureStructureError", "verify.payload"),
    )
    yield Item(
        "payload-deep-nesting.json",
        ('{"sessionID":' + "[" * 3000 + "]" * 3000 + "}").encode(),
        "3000 nested arrays as a member value",
        payload("SignatureStructureError", "verify.payload.json"),
    )


def soap_items() -> Iterator[Item]:
    ns = "http://ws.newyork.zjport.gov.cn/"
    soap = {"soap.extract_return": raises("RemoteRejected", "transport.rejected.soap_fault")}
    yield Item("soap-fault.xml", build_fault("soap:Server", "NullPointerException"), "a SOAP Fault", soap)
    yield Item(
        "soap-not-envelope.xml",
        ceb312(),
        "a receipt where a SOAP envelope belongs",
        {"soap.extract_return": raises("UnexpectedDocumentError", "xml.unexpected.soap")},
    )
    two = build_response(ns, "receive", "x").replace(b"</return>", b"</return><return>y</return>")
    yield Item(
        "soap-two-returns.xml",
        two,
        "two <return> elements",
        {"soap.extract_return": raises("ReceiptError", "receipt.soap.no_return")},
    )
    yield Item(
        "soap-empty-body.xml",
        b'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body/></s:Envelope>',
        "an empty SOAP Body",
        {"soap.extract_return": raises("ReceiptError", "receipt.soap.empty")},
    )


def transfer_items() -> Iterator[Item]:
    refused_reply = {"node.parse_transfer_reply": {"accepted": False}}
    yield Item(
        "transfer-deep-json.txt",
        ("[" * 3000 + "]" * 3000).encode(),
        "3000 nested JSON arrays as a transferDeclare answer",
        dict(refused_reply),
    )
    yield Item(
        "transfer-mo-dtd.txt",
        b'<?xml version="1.0"?><!DOCTYPE mo [<!ENTITY x "y">]><mo>&x;</mo>',
        "a <mo> answer with a DTD",
        dict(refused_reply),
    )
    yield Item(
        "transfer-mo-failed.txt",
        mo_result().replace(b"<chkMark>1</chkMark>", b"<chkMark>2</chkMark>"),
        "a RESULT saying the platform refused",
        dict(refused_reply),
    )


def valid_items() -> Iterator[Item]:
    xml_ok = {"parse_untrusted": OK, "messages.parse": OK, "validation.validate": OK}
    yield Item("valid-ceb311.xml", ceb311(), "a valid CEB311 declaration", {**xml_ok, "cli.validate": OK})
    receipt = {**xml_ok, "cli.receipt": OK, "push.handle": OK, "push.dxp": OK, "push.document": OK}
    yield Item("valid-ceb312.xml", ceb312(), "a valid CEB312 receipt", receipt)
    yield Item("valid-ceb816.xml", ceb816(), "a valid CEB816 tax receipt", dict(receipt))
    yield Item(
        "valid-signed-ceb311.xml",
        signed_ceb311(),
        "a correctly signed CEB311",
        {"signing.verify": OK, "cli.verify": OK, "messages.parse": OK},
    )
    yield Item(
        "valid-unsigned-ceb311.xml",
        ceb311(),
        "an unsigned CEB311, to be signed",
        {"signing.sign": OK},
    )
    yield Item(
        "valid-dxpmsg-ceb312.xml",
        dxp(ceb312()),
        "a DxpMsg around a CEB312",
        {"envelope.unwrap": OK, "cli.receipt": OK, "push.handle": OK, "push.document": OK},
    )
    yield Item(
        "valid-dxpmsgsv-ceb312.xml",
        dxp_sv(ceb312()),
        "a DxpMsgSv around a CEB312",
        {"envelope.unwrap": OK, "cli.receipt": OK, "push.handle": OK},
    )
    yield Item("valid-dxprep.xml", dxp_rep(), "a DxpRep", {"envelope.parse_dxp_reply": OK})
    yield Item(
        "valid-mo-result.xml",
        mo_result(),
        "a <mo> RESULT",
        {
            "mo.parse_mo": OK,
            "cli.receipt": OK,
            "push.handle": OK,
            "node.parse_transfer_reply": {"accepted": True},
        },
    )
    yield Item(
        "valid-mo-importorder.xml",
        MO_IMPORTORDER.format(goods_order="1", price="3.3").encode(),
        "a <mo> IMPORTORDER request",
        {"mo.parse_mo": OK},
    )
    yield Item(
        "valid-soap-return.xml",
        build_response("http://ws.newyork.zjport.gov.cn/", "receive", mo_result().decode()),
        "a SOAP response with an escaped <mo>",
        {"soap.extract_return": OK},
    )
    yield Item(
        "valid-push.txt",
        form(push_form(ceb312())),
        "a genuine push of a CEB312",
        {"push.handle": OK, "push.wsgi": OK, "push.decode": {"digest_valid": True}},
    )
    yield Item(
        "valid-push-mo.txt",
        form(push_form(mo_result(), msg_type=MSG_TYPE_RESULT)),
        "a genuine push of a <mo> RESULT",
        {"push.handle": OK, "push.wsgi": OK, "push.decode": {"digest_valid": True}},
    )
    yield Item(
        "valid-openreq.txt",
        form({"openReq": open_req()}),
        "customs' openReq",
        {"pay179.handle_body": {"answer": "10000"}},
    )
    escaped = open_req(order_no="HZ2").replace('"', "&quot;")
    yield Item(
        "valid-openreq-escaped.txt",
        form({"openReq": escaped}),
        "customs' openReq, HTML-escaped",
        {"pay179.handle_body": {"answer": "10000"}},
    )
    yield Item(
        "valid-payload.json", payload_179().encode(), "a signed payExInfoStr", {"signing.verify_payload": OK}
    )
    yield Item(
        "valid-reply179.json",
        b'\xef\xbb\xbf{"code":10000,"message":"","total":1,"serviceTime":1780000000000}',
        "customs' upload reply (BOM, numeric code)",
        {"pay179.parse_reply": OK},
    )
    yield Item(
        "valid-transfer.txt",
        b'{"success":true,"xml":"<mo/>"}',
        "a transferDeclare answer",
        {"node.parse_transfer_reply": {"accepted": True}},
    )


TYPED: dict[str, Any] = {"typed": True}


def regression_items() -> Iterator[Item]:
    """Inputs that crashed a fuzz harness (found by fuzz/run.py, minimized, then written out cleanly)."""
    brace = (
        b'<?xml version="1.0"?><DxpMsgSv xmlns="}"><DxpMsg xmlns="relative"><TransInfo/><Data/></DxpMsg>'
        b"</DxpMsgSv>"
    )
    feeds = xml_refusal("XmlError", "xml.")
    yield Item(
        "fuzz-namespace-brace.xml",
        brace,
        "the minimized fuzz_unwrap crash: a default namespace '}' followed by a relative one",
        feeds,
    )
    signed = signed_ceb311()
    cert = bytearray(keys().signer_cert)
    spki = (
        keys()
        .signer.public_key()
        .public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    start = bytes(cert).index(spki) + spki.index(b"\x30\x81\x89\x02\x81\x81")
    cert[start + 3] = 0x0B  # the modulus INTEGER tag becomes a tag the key parser does not expect
    broken = signed.replace(base64.b64encode(keys().signer_cert), base64.b64encode(bytes(cert)))
    yield Item(
        "fuzz-certificate-bad-public-key.xml",
        broken,
        "the minimized fuzz_verify crash: a KeyInfo certificate that parses but whose public key does not",
        {
            "signing.verify": raises("CertificateNotTrusted", "verify.certificate.unreadable"),
            "cli.verify": {"exit": 1, "code": "verify.certificate"},
        },
    )
    cert = bytearray(keys().signer_cert)
    issuer = x509.load_der_x509_certificate(bytes(cert)).issuer.public_bytes()
    at = bytes(cert).index(issuer) + issuer.index(b"\x06\x03\x55\x04\x03") + 5
    cert[at] = 0x01  # the issuer CN's UTF8String tag becomes BOOLEAN: read lazily, on first use
    yield Item(
        "fuzz-certificate-bad-issuer.xml",
        signed.replace(base64.b64encode(keys().signer_cert), base64.b64encode(bytes(cert))),
        "a correctly signed document whose KeyInfo certificate has a malformed issuer name (fuzz_verify): "
        "the signature verifies, then reading the certificate's facts fails",
        {
            "signing.verify": raises("CertificateNotTrusted", "verify.certificate"),
            "cli.verify": {"exit": 1, "code": "verify.certificate"},
        },
    )
    cert = bytearray(keys().signer_cert)
    version = bytes(cert).index(b"\xa0\x03\x02\x01\x02")  # [0] EXPLICIT Version v3
    cert[version + 4] = 0x42
    yield Item(
        "fuzz-certificate-bad-version.xml",
        signed.replace(base64.b64encode(keys().signer_cert), base64.b64encode(bytes(cert))),
        "a signed document whose KeyInfo certificate says X.509 version 67 (fuzz_verify)",
        {
            "signing.verify": raises("CertificateNotTrusted", "verify.certificate"),
            "cli.verify": {"exit": 1, "code": "verify.certificate"},
        },
    )
    signed = signed_ceb311()
    relative = signed.replace(b"<ceb:CEB311Message ", b'<ceb:CEB311Message xmlns:x="relative" ', 1)
    yield Item(
        "fuzz-c14n-relative-namespace-signed.xml",
        relative,
        'a signed CEB311 whose root also declares xmlns:x="relative" (fuzz_verify)',
        {"signing.verify": raises("CbecError", ""), "cli.verify": {"exit": 1}},
    )
    base = ceb311()
    end = base.index(b"</ceb:CEB311Message>")
    extend = (
        base[:end]
        + b"<ceb:ExtendMessage><ceb:name>x</ceb:name><ceb:version>1</ceb:version><ceb:Message>"
        + b'<note xmlns:y="relative"/></ceb:Message></ceb:ExtendMessage>'
        + base[end:]
    )
    yield Item(
        "fuzz-c14n-relative-namespace-extend.xml",
        extend,
        "a CEB311 whose ExtendMessage/Message holds an element declaring a relative namespace URI",
        {
            "messages.parse": raises("CbecError", ""),
            "validation.validate": TYPED,
            "cli.validate": {"exit": 1},
        },
    )
    mo = (
        b'<?xml version="1.0" encoding="UTF-8"?><mo version="1.0.0" xmlns:x="relative"><head>'
        b"<businessType>PRODUCT_RECORD</businessType></head><body><record/></body></mo>"
    )
    feeds = {
        "mo.parse_mo": raises("CbecError", ""),
        "cli.receipt": {"exit": 1},
        "push.handle": {"status": 400},
        "push.document": {"status": 400},
        "node.parse_transfer_reply": {"accepted": False},
    }
    yield Item(
        "fuzz-c14n-relative-namespace-mo.xml",
        mo,
        "a <mo> of a business type without a model (read as MoGeneric) declaring a relative namespace URI",
        feeds,
    )
    yield Item(
        "fuzz-c14n-relative-namespace-unsigned.xml",
        b'<soapenv:Envelope xmlns:soapenv="a" xmlns:ws="/"><soapenv:Body><ws:receive><content></content>'
        b"<msgType></msgType><dataDigest></dataDigest><sendCode></sendCode></ws:receive></soapenv:Body>"
        b"</soapenv:Envelope>",
        "the minimized fuzz_verify crash: signing an unsigned document with relative namespace URIs",
        {"signing.sign": raises("SigningError", "sign.")},
    )


def items() -> list[Item]:
    producers: list[Callable[[], Iterator[Item]]] = [
        valid_items,
        xml_items,
        ceb_items,
        mo_items,
        dxp_items,
        signature_items,
        push_items,
        openreq_items,
        reply179_items,
        payload_items,
        soap_items,
        transfer_items,
        regression_items,
    ]
    out = [item for produce in producers for item in produce()]
    names = [item.name for item in out]
    assert len(names) == len(set(names)), "corpus names must be unique"
    for item in out:
        unknown = set(item.feeds) - set(ALL_ENTRIES)
        assert not unknown, f"{item.name}: unknown entry points {unknown}"
    return out


def manifest(corpus: list[Item]) -> bytes:
    document = {
        "about": "Generated by tests/hostile/make_corpus.py; do not edit by hand.",
        "placeholders": {"canary_file": CANARY_FILE, "canary_url": CANARY_URL},
        "now": NOW.isoformat(),
        "entries": list(ALL_ENTRIES),
        "files": {
            item.name: {
                "about": item.about,
                "sha256": hashlib.sha256(item.data).hexdigest(),
                **({"template": item.template} if item.template else {}),
                **({"options": item.options} if item.options else {}),
                "feeds": item.feeds,
            }
            for item in corpus
        },
    }
    return (json.dumps(document, ensure_ascii=False, indent=1, sort_keys=True) + "\n").encode("utf-8")


def certificates() -> dict[str, bytes]:
    """Public certificates the tests pin or trust (committed next to the corpus for inspection)."""
    k = keys()
    return {
        "certs/signer.crt": k.signer_cert,
        "certs/expired.crt": k.expired_cert,
        "certs/other.crt": k.other_cert,
    }


def render() -> dict[str, bytes]:
    """Every file of the corpus folder: relative name → bytes."""
    corpus = items()
    files = {item.name: item.data for item in corpus}
    files[MANIFEST] = manifest(corpus)
    files.update(certificates())
    return files


def write(target: Path) -> list[str]:
    """Write the corpus to ``target``; remove stale files. Returns the names that changed."""
    files = render()
    changed = []
    for name, data in files.items():
        path = target / name
        if not path.is_file() or path.read_bytes() != data:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            changed.append(name)
    for path in sorted(target.rglob("*")):
        if path.is_file() and path.relative_to(target).as_posix() not in files:
            path.unlink()
            changed.append(f"removed {path.relative_to(target).as_posix()}")
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="compare only; exit 1 when out of date")
    parser.add_argument("--target", type=Path, default=CORPUS, help=f"folder to write (default {CORPUS})")
    args = parser.parse_args(argv)
    if args.check:
        files = render()
        stale = [
            n
            for n, d in files.items()
            if not (args.target / n).is_file() or (args.target / n).read_bytes() != d
        ]
        print("\n".join(stale) or "up to date")
        return 1 if stale else 0
    changed = write(args.target)
    total = sum(len(d) for d in render().values())
    print(f"{len(changed)} file(s) changed; corpus is {total} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
