"""179 payment upload: the real SM2 upload, our builder, validation, and verification from spans."""

from __future__ import annotations

import base64
import json
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from cbec_declare import errors
from cbec_declare.signing import (
    GoodsInfo,
    PayExchangeInfoHead,
    PayExchangeInfoItem,
    SignatureAlgorithm,
    build_payload,
    head_json,
    lists_json,
    sign_string,
    verify_payload,
)
from cbec_declare.signing.certs import public_key
from conftest import VECTORS
from signing.signing_support import gmssl_verify, rsa_signer, sm2_signer, vectors


def _real_upload() -> str:
    data = json.loads((VECTORS / "179_upload_sm2.json").read_text(encoding="utf-8"))
    text: str = data["data"]["payload"]["payExInfoStr"]
    return text


def _head(**changes: Any) -> PayExchangeInfoHead:
    values: dict[str, Any] = {
        "guid": "9D55BA71-55DE-41F4-8B50-C36C83B3B419",
        "inital_request": "<xml><total_fee>500</total_fee></xml>",
        "inital_response": '<xml><result_code><![CDATA[SUCCESS]]></result_code><note a="1"/></xml>',
        "ebp_code": "46016602EV",
        "pay_code": "1537923071",
        "pay_transaction_id": "4200000681202009235085032319",
        "total_amount": Decimal("100.10"),
        "ver_dept": "3",
        "pay_type": "4",
        "trading_time": "20200923145426",
        "note": "备注 \\ / \u0001",
    }
    values.update(changes)
    return PayExchangeInfoHead(**values)


def _items() -> list[PayExchangeInfoItem]:
    return [
        PayExchangeInfoItem(
            order_no="202009231454218421271832",
            goods_info=[
                GoodsInfo(
                    gname="济州花梨精华面膜", item_link="http://m.example.cn/detail?itemId=999761&shopId=453"
                ),
                GoodsInfo(gname='"引号"商品', item_link="http://m.example.cn/2"),
            ],
            recp_account="46016602EV",
            recp_code="46016602EV",
            recp_name="海南省荣誉进出口贸易有限公司",
        )
    ]


def test_real_upload_rebuilds_the_exact_sign_string_and_verifies() -> None:
    vector = vectors()["sm2_179_weasley"]
    upload = _real_upload()
    result = verify_payload(upload, certificate=vector["x509_b64"])
    assert result.sign_string.encode("utf-8") == (VECTORS / "179_signstring_sm2.txt").read_bytes()
    assert result.algorithm is SignatureAlgorithm.SM2_SM3
    assert result.cert_no == "03000000000cde6f"
    assert result.session_id == "IHWESX-WEASLEY-20230712210643-X7E4PL"
    assert result.service_time == "1601282210417"
    assert result.head["totalAmount"] == 5.0  # written 5.0 in the upload and signed that way
    point = public_key(vector["x509_b64"]).point  # type: ignore[union-attr]
    assert gmssl_verify(point, base64.b64decode(vector["signature_b64"]), result.sign_string.encode("utf-8"))
    # also as bytes, and with the registered-certificates mapping customs would hold
    assert verify_payload(
        upload.encode("utf-8"), certificate={"03000000000CDE6F": vector["x509_b64"]}
    ).cert_no


def test_real_upload_tampering_is_detected() -> None:
    certificate = vectors()["sm2_179_weasley"]["x509_b64"]
    upload = _real_upload()
    for old, new in (
        ('"totalAmount":5.0', '"totalAmount":5'),  # same number, different text: customs signed the text
        ('"verDept":"3"', '"verDept":"2"'),
        ('"serviceTime":"1601282210417"', '"serviceTime":1601282210417'),  # a number is written unquoted...
        ("济州", "济洲"),
    ):
        assert old in upload
        tampered = upload.replace(old, new, 1)
        if old.startswith('"serviceTime"'):
            # ...but the sign string quotes it either way, so this one still verifies.
            assert verify_payload(tampered, certificate=certificate).service_time == "1601282210417"
            continue
        with pytest.raises(errors.SignatureMismatch) as caught:
            verify_payload(tampered, certificate=certificate)
        assert caught.value.context["reason"] == "signature"


@pytest.mark.parametrize("make", [sm2_signer, lambda: rsa_signer(1024)], ids=["sm2", "rsa"])
def test_build_then_verify_round_trip(make: Any) -> None:
    signer = make()
    upload = build_payload(
        _head(), _items(), session_id="SESSION-1", signer=signer, service_time=1533271903898
    )
    decoded = json.loads(upload)
    assert list(decoded) == [
        "sessionID",
        "payExchangeInfoHead",
        "payExchangeInfoLists",
        "serviceTime",
        "certNo",
        "signValue",
    ]
    assert list(decoded["payExchangeInfoHead"]) == [
        "guid",
        "initalRequest",
        "initalResponse",
        "ebpCode",
        "payCode",
        "payTransactionId",
        "totalAmount",
        "currency",
        "verDept",
        "payType",
        "tradingTime",
        "note",
    ]
    assert list(decoded["payExchangeInfoLists"][0]) == [
        "orderNo",
        "goodsInfo",
        "recpAccount",
        "recpCode",
        "recpName",
    ]
    assert decoded["serviceTime"] == 1533271903898
    assert decoded["certNo"] == signer.key_name
    assert '"totalAmount":100.1,' in upload
    assert "济州花梨精华面膜" in upload  # not \u-escaped
    result = verify_payload(upload, certificate=signer.certificate)
    assert result.sign_string == sign_string("SESSION-1", _head(), _items(), 1533271903898)
    assert result.head["note"] == "备注 \\ / \u0001"


def test_sign_string_shape() -> None:
    text = sign_string("S", _head(), _items(), 42)
    head, lists = head_json(_head()), lists_json(_items())
    expected = f'"sessionID":"S"||"payExchangeInfoHead":"{head}"||'
    expected += f'"payExchangeInfoLists":"{lists}"||"serviceTime":"42"'
    assert text == expected
    assert json.loads(head)["totalAmount"] == 100.1
    assert json.loads(lists)[0]["goodsInfo"][1]["gname"] == '"引号"商品'
    assert sign_string("S", head, lists, "42") == text  # JSON text is used as given


def test_service_time_as_text_and_cert_no_override() -> None:
    signer = sm2_signer()
    upload = build_payload(
        _head(pay_type=None),
        _items(),
        session_id="S",
        signer=signer,
        service_time=7,
        service_time_as_text=True,
        cert_no=signer.key_name.upper(),
    )
    decoded = json.loads(upload)
    assert decoded["serviceTime"] == "7"
    assert "payType" not in decoded["payExchangeInfoHead"]
    assert verify_payload(upload, certificate=signer.certificate).service_time == "7"


@pytest.mark.parametrize(
    ("amount", "text"),
    [
        (Decimal("100"), "100"),
        (Decimal("100.10"), "100.1"),
        ("0.00001", "0.00001"),
        (5, "5"),
        ("1E+2", "100"),
        (Decimal("0"), "0"),
        (Decimal("99999999999999.99999"), "99999999999999.99999"),
    ],
)
def test_total_amount_is_a_json_number_without_trailing_zeros(amount: object, text: str) -> None:
    assert f'"totalAmount":{text},' in head_json(_head(total_amount=amount))


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"guid": "9d55ba71-55de-41f4-8b50-c36c83b3b419"}, "guid"),
        ({"guid": "SHORT"}, "guid"),
        ({"inital_request": "x" * 8001}, "inital_request"),
        ({"inital_response": ""}, "inital_response"),
        ({"ebp_code": "X" * 19}, "ebp_code"),
        ({"total_amount": 1.5}, "total_amount"),
        ({"total_amount": "-1"}, "total_amount"),
        ({"total_amount": "0.000001"}, "total_amount"),
        ({"total_amount": "100000000000000"}, "total_amount"),
        ({"total_amount": "NaN"}, "total_amount"),
        ({"total_amount": "abc"}, "total_amount"),
        ({"ver_dept": "4"}, "ver_dept"),
        ({"pay_type": "5"}, "pay_type"),
        ({"trading_time": "2020-09-23"}, "trading_time"),
        ({"trading_time": "20201332145426"}, "trading_time"),
        ({"currency": "RMB1"}, "currency"),
        ({"note": "x" * 1001}, "note"),
    ],
)
def test_head_is_validated_before_anything_is_signed(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(errors.ModelError) as caught:
        _head(**changes)
    assert caught.value.field == field


def test_items_and_session_are_validated() -> None:
    with pytest.raises(errors.ModelError, match="one or more GoodsInfo"):
        PayExchangeInfoItem(order_no="1", goods_info=[], recp_account="a", recp_code="b", recp_name="c")
    with pytest.raises(errors.ModelError) as caught:
        GoodsInfo(gname="", item_link="x")
    assert caught.value.field == "gname"
    with pytest.raises(errors.ModelError, match="at least one item"):
        lists_json([])
    for bad in ("", 'a"b'):
        with pytest.raises(errors.ModelError, match="sessionID"):
            build_payload(_head(), _items(), session_id=bad, signer=sm2_signer())
    assert _head(trading_time=datetime(2020, 9, 23, 14, 54, 26)).trading_time == "20200923145426"


def test_verification_failures_are_typed() -> None:
    signer = sm2_signer()
    upload = build_payload(_head(), _items(), session_id="S", signer=signer, service_time=1)
    with pytest.raises(errors.CertificateNotTrusted) as no_cert:
        verify_payload(upload)
    assert no_cert.value.context["reason"] == "no-certificate"
    with pytest.raises(errors.CertificateNotTrusted) as other:
        verify_payload(upload, certificate=rsa_signer(1024).certificate)
    assert other.value.context["reason"] == "cert-no-mismatch"
    with pytest.raises(errors.CertificateNotTrusted) as unknown:
        verify_payload(upload, certificate={"00": signer.certificate})
    assert unknown.value.context["reason"] == "unknown-cert-no"
    with pytest.raises(errors.CertificateNotTrusted) as expired:
        verify_payload(
            upload, certificate=signer.certificate, now=signer.certificate_info.not_after + timedelta(1)
        )
    assert expired.value.context["reason"] == "expired"
    decoded = json.loads(upload)
    for key in ("signValue", "certNo", "payExchangeInfoHead"):
        partial = {k: v for k, v in decoded.items() if k != key}
        with pytest.raises(errors.SignatureStructureError) as missing:
            verify_payload(json.dumps(partial, ensure_ascii=False), certificate=signer.certificate)
        assert missing.value.context["reason"] == "missing-member"
    for broken, reason in (
        (upload.replace('"payExchangeInfoLists":[', '"payExchangeInfoLists":{"a":[', 1), None),
        (upload[:-1], None),
        (upload + "x", None),
        ('{"sessionID":"a","sessionID":"b"}', None),
        (upload.replace('"certNo":"', '"certNo":1,"x":"', 1), "member-type"),
    ):
        with pytest.raises(errors.SignatureStructureError) as caught:
            verify_payload(broken, certificate=signer.certificate)
        if reason:
            assert caught.value.context["reason"] == reason
    value = decoded["signValue"]
    with pytest.raises(errors.SignatureStructureError, match="not valid base64"):
        verify_payload(upload.replace(value, "!!" + value[2:]), certificate=signer.certificate)


def test_escaped_text_is_verified_as_sent_not_as_re_serialised() -> None:
    # Another producer writes \u escapes and spaces; the signature covers those exact characters.
    signer = sm2_signer()
    head = '{"guid": "G", "note": "\\u4e2d\\u6587", "totalAmount": 1.50}'
    lists = '[ {"orderNo": "1"} ]'
    text = sign_string("S", head, lists, 9)
    signature = base64.b64encode(signer.sign(text.encode("utf-8"))).decode()
    upload = (
        f'{{ "sessionID": "S", "payExchangeInfoHead": {head}, "payExchangeInfoLists": {lists},'
        f' "serviceTime": 9, "certNo": "{signer.key_name}", "signValue": "{signature}" }}'
    )
    result = verify_payload(upload, certificate=signer.certificate)
    assert result.head["note"] == "中文"
    assert result.sign_string == text
