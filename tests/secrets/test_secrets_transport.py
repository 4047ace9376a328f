"""Secrets audit of the platform client (AES key, enterprise RSA key) and the receipt receiver (AES
key) against the local platform on 127.0.0.1: sends, pushes over HTTP, decode_push, and their
failure paths (wrong AES key on either side, wrong enterprise key, forged digests, unreadable keys)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from cbec_declare.errors import CbecError
from cbec_declare.sandbox import EnterpriseAccount, LocalServer, PlatformServer
from cbec_declare.transport import (
    AesEcbCodec,
    MemorySeenStore,
    PlatformClient,
    ReceiptReceiver,
    RetryPolicy,
    RsaDigestSigner,
    decode_push,
    load_aes_key,
    load_rsa_private_key,
    make_wsgi_app,
)
from helpers import secrets_audit as support
from hostile import make_corpus

SEND_CODE = "3301961Q43"
ORDER = make_corpus.MO_IMPORTORDER.format(goods_order="1", price="3.3").encode()
ONCE = RetryPolicy.none(deadline=20)


@pytest.fixture
def platform() -> Iterator[PlatformServer]:
    k = support.known()
    with PlatformServer() as server:
        server.add_account(EnterpriseAccount(SEND_CODE, k.aes_key, k.enterprise_key.public_key()))
        yield server


def failing(audit: Any, where: str, call: Callable[[], object]) -> CbecError:
    with pytest.raises(CbecError) as caught:
        call()
    audit.error(where, caught.value)
    return caught.value


def _client(platform: PlatformServer, *, aes: str | bytes, key: Any) -> PlatformClient:
    return PlatformClient.from_keys(
        platform.profile(), send_code=SEND_CODE, aes_key=aes, private_key=key, retry=ONCE
    )


def test_platform_client_sends_and_fails_without_leaking(audit: Any, platform: PlatformServer) -> None:
    k = support.known()
    with _client(platform, aes=k.aes_base64, key=k.enterprise_pkcs8_base64()) as client:
        result = client.send(ORDER)
        plain = client.check_received(ORDER)
        audit.text("client", client, client.codec, result, result.raw, result.receipt, plain)
        prepared = client.prepare(ORDER)
        audit.text("prepared request", prepared)
    assert result.accepted, result.messages
    with _client(platform, aes=k.wrong_aes_key, key=k.enterprise_key) as wrong_aes:
        answer = wrong_aes.send(ORDER)
        audit.text("wrong AES answer", wrong_aes, answer, answer.messages)
        assert not answer.accepted
        failing(audit, "wrong AES rejection", answer.raise_for_rejection)
    with _client(platform, aes=k.aes_key, key=k.signer_key) as wrong_key:
        answer = wrong_key.send(ORDER)
        audit.text("wrong key answer", answer, answer.messages)
        assert not answer.accepted
    audit.text("submissions", platform.submissions, [s.digest_valid for s in platform.submissions])
    audit.text("digest signer", RsaDigestSigner(k.enterprise_pkcs8_base64()))


def test_unreadable_keys_are_refused_without_echo(audit: Any) -> None:
    k = support.known()
    pkcs8 = k.enterprise_pkcs8_base64()
    failing(audit, "truncated private key", lambda: load_rsa_private_key(pkcs8[: len(pkcs8) // 2]))
    failing(audit, "private key with garbage", lambda: load_rsa_private_key(pkcs8[:-8] + "!!!!????"))
    failing(audit, "encrypted private key", lambda: load_rsa_private_key(k.signer_pem(k.password)))
    failing(audit, "AES key too short", lambda: load_aes_key(k.aes_key[:10]))
    failing(audit, "AES key not base64", lambda: load_aes_key(k.aes_base64[:-2] + "!!"))
    failing(audit, "AES key base64 of wrong length", lambda: load_aes_key(k.aes_base64[:8]))
    failing(
        audit,
        "client with a bad AES key",
        lambda: PlatformClient.from_keys(
            make_corpus_profile(), send_code=SEND_CODE, aes_key=k.aes_key + b"x", private_key=pkcs8
        ),
    )
    codec = AesEcbCodec(k.aes_key)
    audit.text("codec", codec, str(codec))
    failing(audit, "decrypt garbage", lambda: codec.decode("QUJDREVGR0hJSktMTU5PUA=="))


def make_corpus_profile() -> Any:
    from cbec_declare.transport import PlatformProfile

    return PlatformProfile(base_url="http://127.0.0.1:9/ws/")


def test_receiver_over_http_and_decode_push(audit: Any, platform: PlatformServer) -> None:
    k = support.known()
    delivered: list[Any] = []
    receiver = ReceiptReceiver(
        aes_key=k.aes_key,
        platform_public_key=platform.platform_public_key_base64(),
        sink=delivered.append,
        seen=MemorySeenStore(),
    )
    audit.text("receiver", receiver)
    server = LocalServer(make_wsgi_app(receiver, path="/receipts"), record=False).start()
    try:
        url = server.url + "/receipts"
        receipt = make_corpus.ceb312()
        good = platform.push(url, receipt, "CUSTOMS_CEB_CALLBACK", aes_key=k.aes_key)
        wrong = platform.push(url, receipt, "CUSTOMS_CEB_CALLBACK", aes_key=k.wrong_aes_key)
        forged = platform.make_push(receipt, "CUSTOMS_CEB_CALLBACK", aes_key=k.aes_key)
        forged["data_digest"] = RsaDigestSigner(k.enterprise_key).sign(receipt)
        refused = platform.push_form(url, forged)
        audit.text("answers", good, wrong, refused, good.body, wrong.body, refused.body)
    finally:
        server.stop()
    assert (good.status, wrong.status, refused.status) == (200, 400, 400)
    audit.text("events", delivered, receiver.stats)
    form = platform.make_push(receipt, "CUSTOMS_CEB_CALLBACK", aes_key=k.aes_key)
    decoded = decode_push(form, aes_key=k.aes_base64, platform_public_key=platform.platform_public_key)
    audit.text("decoded", decoded, decoded.text)
    failing(
        audit,
        "decode with the wrong key",
        lambda: decode_push(form, aes_key=k.wrong_aes_key, platform_public_key=platform.platform_public_key),
    )
    failing(
        audit,
        "receiver with a bad key",
        lambda: ReceiptReceiver(
            aes_key=k.aes_base64 + "AA", platform_public_key=platform.platform_public_key, sink=print
        ),
    )
