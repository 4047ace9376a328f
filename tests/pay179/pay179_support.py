"""Helpers for the 179 tests: signers, payment data, configs and an independent signature check.

The independent check rebuilds the sign string from the upload's text following the spec's
wording (signature-dxp-179-receipts.md §C), not our builder, and verifies it with gmssl (SM2) or
cryptography (RSA): a bug shared by our signer and our verifier cannot hide there.
"""

from __future__ import annotations

import base64
import functools
import json
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from cbec_declare.pay179 import Pay179Config, Pay179Server, PaymentData, serve
from cbec_declare.sandbox.customs179 import Customs179
from cbec_declare.signing import GoodsInfo, PayExchangeInfoHead, PayExchangeInfoItem, SoftwareSigner
from cbec_declare.transport.retry import RetryPolicy
from signing.signing_support import gmssl_verify

#: bounded waits for background work (generous: only reached when something is broken)
WAIT = 10.0


@functools.cache
def rsa_signer() -> SoftwareSigner:
    return SoftwareSigner.generate("rsa-sha1", bits=2048, common_name="179 test platform rsa")


@functools.cache
def sm2_signer() -> SoftwareSigner:
    return SoftwareSigner.generate("sm2-sm3", common_name="179 test platform sm2")


@functools.cache
def other_signer() -> SoftwareSigner:
    """A key customs does not know."""
    return SoftwareSigner.generate("sm2-sm3", common_name="not registered with customs")


SIGNERS = {"rsa": rsa_signer, "sm2": sm2_signer}


def fast_retry(attempts: int = 3) -> RetryPolicy:
    """Short waits so retry tests run fast; the deadline only bounds a broken run."""
    return RetryPolicy(attempts=attempts, deadline=WAIT, backoff=0.01, max_backoff=0.05, jitter=0.01)


def payment_data(
    order_no: str, *, amount: str = "864.07", guid: str = "9D55BA71-55DE-41F4-8B50-C36C83B3B419"
) -> PaymentData:
    head = PayExchangeInfoHead(
        guid=guid,
        inital_request='<xml><out_trade_no>T1</out_trade_no><body><![CDATA[蜂蜜 "x"]]></body></xml>',
        inital_response="<xml><result_code><![CDATA[SUCCESS]]></result_code></xml>",
        ebp_code="3301964J31",
        pay_code="312228034T",
        pay_transaction_id=f"PAY-{order_no}",
        total_amount=Decimal(amount),
        ver_dept="3",
        pay_type="4",
        trading_time="20240101120000",
    )
    item = PayExchangeInfoItem(
        order_no=order_no,
        goods_info=[GoodsInfo(gname="麦卢卡蜂蜜", item_link="https://shop.example.cn/item/1?a=1&b=2")],
        recp_account="6222020200012345678",
        recp_code="3301964J31",
        recp_name="杭州示例跨境电商有限公司",
    )
    return PaymentData(head=head, items=[item])


class Catalogue:
    """A lookup function over a dict of known orders (others are unknown: None)."""

    def __init__(self, *order_nos: str) -> None:
        self.known = {order_no: payment_data(order_no) for order_no in order_nos}
        self.calls: list[str] = []

    def __call__(self, order_no: str) -> PaymentData | None:
        self.calls.append(order_no)
        return self.known.get(order_no)


def config(tmp_path: Path, signer: SoftwareSigner, upload_url: str, **changes: Any) -> Pay179Config:
    values: dict[str, Any] = {
        "upload_url": upload_url,
        "signer": signer,
        "store_path": str(tmp_path / "pay179.db"),
        "bind_port": 0,
        "retry": fast_retry(),
        "connect_timeout": 2.0,
        "read_timeout": 5.0,
    }
    values.update(changes)
    return Pay179Config(**values)


@contextmanager
def platform_and_customs(
    tmp_path: Path, signer: SoftwareSigner, source: Any, *, registered: Any = None, **changes: Any
) -> Iterator[tuple[Pay179Server, Customs179]]:
    """A running platform endpoint and a local customs that knows the platform's certificate."""
    customs_options = {
        k: changes.pop(k) for k in ("escape_open_req", "on_upload", "auto_request") if k in changes
    }
    with Customs179(
        platform_certificate=signer.certificate if registered is None else registered, **customs_options
    ) as customs:
        server = serve(config(tmp_path, signer, customs.upload_url, **changes), source=source)
        try:
            customs.platform_url = server.url
            yield server, customs
        finally:
            server.stop()


def _certificate_point(der: bytes) -> bytes:
    point: bytes = asn1_x509.Certificate.load(der).public_key["public_key"].native
    return point


def independently_verified(payload: str, certificate: bytes) -> bool:
    """Rebuild the sign string by the spec's wording and check signValue without our verifier."""
    data = json.loads(payload)
    assert list(data) == [
        "sessionID",
        "payExchangeInfoHead",
        "payExchangeInfoLists",
        "serviceTime",
        "certNo",
        "signValue",
    ]
    head = json.dumps(data["payExchangeInfoHead"], ensure_ascii=False, separators=(",", ":"))
    lists = json.dumps(data["payExchangeInfoLists"], ensure_ascii=False, separators=(",", ":"))
    # "byte-identical inner JSON": the compact re-serialisation is literally in the upload
    assert f'"payExchangeInfoHead":{head},"payExchangeInfoLists":{lists},' in payload
    signed = (
        f'"sessionID":"{data["sessionID"]}"||"payExchangeInfoHead":"{head}"||'
        f'"payExchangeInfoLists":"{lists}"||"serviceTime":"{data["serviceTime"]}"'
    ).encode()
    signature = base64.b64decode(data["signValue"])
    if asn1_x509.Certificate.load(certificate).public_key.algorithm == "rsa":
        key = x509.load_der_x509_certificate(certificate).public_key()
        assert isinstance(key, rsa.RSAPublicKey)
        try:
            key.verify(signature, signed, padding.PKCS1v15(), hashes.SHA1())  # the customs RSA profile
        except InvalidSignature:
            return False
        return True
    return gmssl_verify(_certificate_point(certificate), signature, signed)


def amount_text(value: Decimal) -> str:
    return format(value.normalize(), "f")
