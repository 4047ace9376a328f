"""§2.2: the enterprise → platform SOAP client (``ReceiveEncryptDeclare`` and ``ReceivedDeclare``).

``ReceiveEncryptDeclare.receive(content, msgType, dataDigest, sendCode)`` [H]:

* ``content`` = ``Base64(AES-128-ECB-PKCS5(xml))`` with the agreed AES key;
* ``dataDigest`` = ``Base64(SHA1withRSA(xml))`` over the **plaintext** with the enterprise key —
  a raw PKCS#8/PEM key (:meth:`PlatformClient.from_keys`) or any
  :class:`~cbec_declare.signing.base.Signer` with ``SignatureAlgorithm.RSA_SHA1`` (a token);
* ``msgType`` = the business type (``head/businessType`` of a ``<mo>``; for CEB XML, the root name);
* ``sendCode`` = the enterprise's 10-character registration code.

The answer is a ``<mo>`` ``RESULT`` inside ``<return>``: :class:`PlatformResult` carries it parsed.
A refusal (chkMark 2) is a *result*, returned and not raised (:meth:`PlatformResult.raise_for_rejection`
raises it when wanted); transport failures raise and are retried per the
:class:`~cbec_declare.transport.retry.RetryPolicy`, always with the very same request bytes.

The older plaintext channel ``ReceivedDeclare.checkReceived(xmlStr, xmlType, sourceType="1")`` is
:meth:`PlatformClient.check_received`. Every wire name is a :class:`PlatformProfile` setting.
"""

from __future__ import annotations

import logging
import re
from types import TracebackType

import attrs
import requests
from cryptography.hazmat.primitives.asymmetric import rsa

from .._xml import parse_untrusted
from ..errors import CbecError, ConfigError, ReceiptError, RemoteRejected
from ..signing.base import Signer
from .codec import AesEcbCodec, DigestSigner, IdentityCodec, PayloadCodec, RsaDigestSigner, SignerDigest
from .http import post
from .mo import MoMessage, ResultReceipt, build_mo, parse_mo
from .profiles import PlatformProfile
from .retry import RetryPolicy, clamp_timeout
from .soap import build_request, extract_mo, soap_return

__all__ = ["PlatformClient", "PlatformResult", "PreparedRequest", "detect_msg_type"]

log = logging.getLogger("cbec_declare.transport")

_SEND_CODE = re.compile(r"[0-9A-Za-z]{10}")


@attrs.frozen
class PlatformResult:
    """The platform's synchronous answer: the parsed ``RESULT`` and the raw ``<return>`` text."""

    receipt: ResultReceipt
    raw: str
    status: int
    msg_type: str

    @property
    def accepted(self) -> bool:
        """chkMark 1 on every ``jkfResult``."""
        return self.receipt.accepted

    @property
    def messages(self) -> tuple[str, ...]:
        return self.receipt.messages

    def raise_for_rejection(self) -> None:
        """Raise :class:`~cbec_declare.errors.RemoteRejected` if the platform refused the message."""
        if not self.accepted:
            raise RemoteRejected(
                f"the platform refused the {self.msg_type} message: "
                f"{'; '.join(self.messages) or 'no reason given'}",
                code="transport.rejected.platform",
                msg_type=self.msg_type,
            )


@attrs.frozen(repr=False)
class PreparedRequest:
    """One request, built once: every retry posts exactly ``body``."""

    url: str
    body: bytes
    headers: dict[str, str]
    msg_type: str
    what: str

    def __repr__(self) -> str:  # the body holds ciphertext or, on the plaintext channel, personal data
        return f"PreparedRequest({self.what}, {self.msg_type}, {len(self.body)} bytes)"


def detect_msg_type(xml: bytes) -> str:
    """``head/businessType`` of a ``<mo>``, or the root name of a CEB message (``CEB311Message``)."""
    root = parse_untrusted(xml, what="message to send")
    name = root.tag if isinstance(root.tag, str) else ""
    local = name.rpartition("}")[2]
    if local == "mo":
        for node in root.iterfind("head/businessType"):
            if (node.text or "").strip():
                return (node.text or "").strip()
        raise ConfigError("the <mo> message has no head/businessType; pass msg_type", code="config.msg_type")
    return local


def _digest_signer(signer: DigestSigner | Signer, hash_name: str) -> DigestSigner:
    if isinstance(signer, Signer):
        return SignerDigest(signer, hash_name=hash_name)
    if isinstance(signer, DigestSigner):
        return signer
    raise ConfigError(
        f"digest signer must be a Signer or a DigestSigner, got {type(signer).__name__}", code="config.signer"
    )


class PlatformClient:
    """Sends messages to the zjport platform and returns its ``RESULT``.

    Holds one ``requests.Session`` (connection pool, keep-alive). ``requests`` does not promise that a
    session is thread-safe: give each thread its own client, or pass each its own ``session``.
    """

    def __init__(
        self,
        profile: PlatformProfile,
        *,
        send_code: str,
        codec: PayloadCodec,
        digest_signer: DigestSigner | Signer,
        retry: RetryPolicy | None = None,
        session: requests.Session | None = None,
    ) -> None:
        if not isinstance(send_code, str) or not _SEND_CODE.fullmatch(send_code):
            raise ConfigError(
                f"send_code must be the 10-character registration code (发送方代码), got {send_code!r}",
                code="config.send_code",
                field="sendCode",
            )
        self.profile = profile
        self.send_code = send_code
        self.codec = codec
        self.digest_signer = _digest_signer(digest_signer, profile.digest_hash)
        self.retry = retry if retry is not None else RetryPolicy()
        self._own_session = session is None
        self.session = session if session is not None else requests.Session()

    @classmethod
    def from_keys(
        cls,
        profile: PlatformProfile,
        *,
        send_code: str,
        aes_key: bytes | str,
        private_key: bytes | str | rsa.RSAPrivateKey,
        retry: RetryPolicy | None = None,
        session: requests.Session | None = None,
    ) -> PlatformClient:
        """A client from zjport's key material: the AES key (raw or Base64) and the enterprise RSA key
        (Base64 PKCS#8 DER as zjport issues it, or PEM; 512-bit keys are fine)."""
        codec: PayloadCodec = IdentityCodec() if profile.codec == "identity" else AesEcbCodec(aes_key)
        signer = RsaDigestSigner(private_key, hash_name=profile.digest_hash)
        return cls(
            profile, send_code=send_code, codec=codec, digest_signer=signer, retry=retry, session=session
        )

    def __repr__(self) -> str:
        return (
            f"PlatformClient({self.profile.base_url!r}, send_code={self.send_code!r}, codec={self.codec!r})"
        )

    # ------------------------------------------------------------------ building

    def _headers(self) -> dict[str, str]:
        return {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": f'"{self.profile.soap_action}"'}

    def prepare(self, xml: bytes | MoMessage, *, msg_type: str | None = None) -> PreparedRequest:
        """The encrypted ``ReceiveEncryptDeclare`` request for ``xml`` (bytes or a ``<mo>`` model)."""
        plaintext = _plaintext(xml)
        kind = msg_type or detect_msg_type(plaintext)
        content = self.codec.encode(plaintext)
        signed = plaintext if self.profile.digest_over == "plaintext" else content.encode("utf-8")
        digest = self.digest_signer.sign(signed)
        names = self.profile.encrypt_params
        body = build_request(
            self.profile.namespace,
            self.profile.encrypt_operation,
            list(zip(names, (content, kind, digest, self.send_code), strict=True)),
            qualified=self.profile.qualified_params,
        )
        return PreparedRequest(
            self.profile.url(self.profile.encrypt_service),
            body,
            self._headers(),
            kind,
            self.profile.encrypt_service,
        )

    def prepare_plain(self, xml: bytes | MoMessage, *, xml_type: str | None = None) -> PreparedRequest:
        """The plaintext ``ReceivedDeclare.checkReceived`` request."""
        plaintext = _plaintext(xml)
        kind = xml_type or detect_msg_type(plaintext)
        try:
            text = plaintext.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ConfigError("the plaintext channel carries UTF-8 XML only", code="config.encoding") from exc
        body = build_request(
            self.profile.namespace,
            self.profile.plain_operation,
            list(zip(self.profile.plain_params, (text, kind, self.profile.plain_source_type), strict=True)),
            qualified=self.profile.qualified_params,
        )
        return PreparedRequest(
            self.profile.url(self.profile.plain_service),
            body,
            self._headers(),
            kind,
            self.profile.plain_service,
        )

    # ------------------------------------------------------------------ sending

    def send(self, xml: bytes | MoMessage, *, msg_type: str | None = None) -> PlatformResult:
        """Encrypt, sign and send one message; return the platform's ``RESULT``."""
        return self.submit(self.prepare(xml, msg_type=msg_type))

    def check_received(self, xml: bytes | MoMessage, *, xml_type: str | None = None) -> PlatformResult:
        """Send one message over the plaintext channel (test environments, legacy set-ups)."""
        return self.submit(self.prepare_plain(xml, xml_type=xml_type))

    def submit(self, prepared: PreparedRequest) -> PlatformResult:
        """Post a prepared request under the retry policy and read the ``RESULT``."""
        what = f"platform {prepared.what} ({prepared.msg_type})"
        profile = self.profile

        def attempt(left: float) -> tuple[int, str]:
            reply = post(
                self.session,
                prepared.url,
                data=prepared.body,
                headers=prepared.headers,
                timeout=clamp_timeout(profile.connect_timeout, profile.read_timeout, left),
                max_response_bytes=profile.max_response_bytes,
                what=what,
            )
            return reply.status, soap_return(reply, what=what, max_bytes=profile.max_response_bytes)

        status, text = self.retry.call(attempt, what=what)
        receipt = _read_result(text, what)
        log.info("%s: chkMark %s", what, ",".join(r.chk_mark or "?" for r in receipt.results) or "none")
        return PlatformResult(receipt=receipt, raw=text, status=status, msg_type=prepared.msg_type)

    # ------------------------------------------------------------------ lifecycle

    def close(self) -> None:
        if self._own_session:
            self.session.close()

    def __enter__(self) -> PlatformClient:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def _plaintext(xml: object) -> bytes:
    if isinstance(xml, MoMessage):
        return build_mo(xml)
    if isinstance(xml, (bytes, bytearray, memoryview)):
        return bytes(xml)
    raise ConfigError(
        f"send XML as bytes (UTF-8, as built) or a <mo> model, not {type(xml).__name__}",
        code="config.payload",
    )


def _read_result(text: str, what: str) -> ResultReceipt:
    document = extract_mo(text)
    if document is None:
        raise ReceiptError(
            f"{what}: the answer holds no <mo> document ({len(text)} characters: {text[:120]!r})",
            code="receipt.platform.no_mo",
        )
    try:
        result = parse_mo(document, expect=ResultReceipt)
    except CbecError as exc:
        raise ReceiptError(
            f"{what}: the answer is not a readable RESULT: {exc}", code="receipt.platform.result"
        ) from exc
    assert isinstance(result, ResultReceipt)
    return result
