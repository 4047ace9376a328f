"""A local stand-in for the zjport platform, protocol side: the §2.2 SOAP services and the §2.1 pushes.

:class:`PlatformServer` really does what the platform does with a request: finds the account by
``sendCode``, decrypts ``content`` with that account's AES key, verifies ``dataDigest`` with the
enterprise public key registered for it, reads the XML (``<mo>`` or CEB) and answers a ``<mo>``
RESULT — chkMark 1 ``处理成功``, or chkMark 2 with the reasons (unknown sender, undecryptable
content, wrong digest, malformed or unexpected XML, ``msgType`` not matching the document, or what
the pluggable ``checker`` reports). Every request is kept in :attr:`PlatformServer.submissions`.

It pushes receipts the way the platform does (:meth:`PlatformServer.push`): any bytes — a ``<mo>``
RESULT, a CEB receipt bare or in a DxpMsg — encrypted with the agreed AES key, signed with the
*platform's* key (1024-bit by default, as the real one), posted as form fields ``content``,
``msg_type``, ``data_digest`` to the enterprise's URL. :meth:`PlatformServer.push_form` posts any
form at all, for hostile tests.

Built to be reused by the full local sandbox (platform + exchange node + customs): :attr:`app` is a
plain WSGI app, faults are injected through :class:`~cbec_declare.sandbox._server.Faults`, and the
``checker`` hook is where XSD validation and business rules plug in.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from types import TracebackType
from typing import Any
from urllib.parse import urlencode

import attrs
import requests
from cryptography.hazmat.primitives.asymmetric import rsa

from .._xml import parse_untrusted
from ..errors import CbecError
from ..messages import parse_element
from ..models import CHINA_TZ
from ..transport.codec import AesEcbCodec, IdentityCodec, PayloadCodec, RsaDigestSigner, RsaDigestVerifier
from ..transport.http import HttpReply, post
from ..transport.keys import load_aes_key, load_rsa_private_key, public_key_spki_base64
from ..transport.mo import (
    ImportOrder,
    JkfResult,
    JkfResultDetail,
    MoMessage,
    PersonalGoodsDeclar,
    ResultReceipt,
    build_mo,
    parse_mo,
)
from ..transport.profiles import ZJPORT_NAMESPACE, PlatformProfile
from ..transport.soap import build_fault, build_response, parse_request
from ._server import Faults, LocalServer

__all__ = ["Checker", "EnterpriseAccount", "PlatformServer", "PlatformSubmission"]

#: ``checker(msg_type, plaintext) -> reasons``; an empty list means the document passes.
Checker = Callable[[str, bytes], Sequence[str]]

SUCCESS = "处理成功"


@attrs.frozen
class EnterpriseAccount:
    """What the enterprise registered with the platform: sendCode, AES key, RSA public key."""

    send_code: str
    aes_key: bytes = attrs.field(converter=load_aes_key, repr=False)
    public_key: Any = attrs.field(repr=False)  # anything RsaDigestVerifier reads


@attrs.frozen
class PlatformSubmission:
    """One request the platform received and what it answered."""

    service: str
    send_code: str | None
    msg_type: str | None
    plaintext: bytes | None = attrs.field(repr=lambda v: "None" if v is None else f"<{len(v)} bytes>")
    digest_valid: bool
    result: ResultReceipt


def _now() -> tuple[str, str]:
    moment = datetime.now(CHINA_TZ)
    return moment.strftime("%Y-%m-%d"), moment.strftime("%H:%M")


def _business_nos(message: MoMessage) -> list[str | None]:
    if isinstance(message, ImportOrder):
        return [o.sign.business_no if o.sign else None for o in message.orders]
    if isinstance(message, PersonalGoodsDeclar):
        return [m.sign.business_no if m.sign else None for m in message.modules]
    return [None]


class PlatformServer:
    """The zjport platform's SOAP services, served on 127.0.0.1 (see the module doc)."""

    def __init__(
        self,
        *,
        accounts: Iterable[EnterpriseAccount] = (),
        platform_key: rsa.RSAPrivateKey | bytes | str | None = None,
        base_path: str = "/newyorkWS/ws/",
        namespace: str = ZJPORT_NAMESPACE,
        checker: Checker | None = None,
        faults: Faults | None = None,
        response_style: str = "escaped",
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.accounts: dict[str, EnterpriseAccount] = {a.send_code: a for a in accounts}
        key = platform_key if platform_key is not None else rsa.generate_private_key(65537, 1024)  # noqa: S505 - as the real one
        self._platform_signer = RsaDigestSigner(load_rsa_private_key(key, what="platform key"))
        self.base_path = "/" + base_path.strip("/") + "/"
        self.namespace = namespace
        self.checker = checker
        self.response_style = response_style
        self._lock = threading.Lock()
        self._submissions: list[PlatformSubmission] = []
        self.server = LocalServer(self.app, host=host, port=port, faults=faults)
        self._session = requests.Session()

    # ------------------------------------------------------------------ lifecycle

    def add_account(self, account: EnterpriseAccount) -> None:
        self.accounts[account.send_code] = account

    @property
    def faults(self) -> Faults:
        return self.server.faults

    @property
    def base_url(self) -> str:
        """What goes in ``PlatformProfile(base_url=...)``."""
        return self.server.url + self.base_path

    def profile(self, **settings: Any) -> PlatformProfile:
        """A client profile pointing at this server."""
        return PlatformProfile(base_url=self.base_url, namespace=self.namespace, **settings)

    @property
    def platform_public_key(self) -> rsa.RSAPublicKey:
        return self._platform_signer.public_key

    def platform_public_key_base64(self) -> str:
        """The platform key in the form zjport hands to enterprises (Base64 SPKI DER)."""
        return public_key_spki_base64(self.platform_public_key)

    @property
    def submissions(self) -> list[PlatformSubmission]:
        with self._lock:
            return list(self._submissions)

    def start(self) -> PlatformServer:
        self.server.start()
        return self

    def stop(self) -> None:
        self.server.stop()
        self._session.close()

    def __enter__(self) -> PlatformServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # ------------------------------------------------------------------ the SOAP side

    def app(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        """The WSGI app: ``POST <base_path>ReceiveEncryptDeclare`` and ``…ReceivedDeclare``."""
        path = environ.get("PATH_INFO", "")
        service = path[len(self.base_path) :] if path.startswith(self.base_path) else None
        if service not in ("ReceiveEncryptDeclare", "ReceivedDeclare") or environ["REQUEST_METHOD"] != "POST":
            start_response("404 Not Found", [("Content-Type", "text/plain"), ("Content-Length", "9")])
            return [b"not found"]
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        try:
            call = parse_request(body)
        except CbecError as exc:
            # JAX-WS answers an unreadable request with a Client fault and HTTP 500.
            payload = build_fault("soap:Client", f"unreadable request: {exc.message}")
            start_response("500 Internal Server Error", _xml_headers(payload))
            return [payload]
        if service == "ReceiveEncryptDeclare":
            submission = self._encrypted(call.params)
            operation = "receive"
        else:
            submission = self._plain(call.params)
            operation = "checkReceived"
        with self._lock:
            self._submissions.append(submission)
        text = build_mo(submission.result).decode("utf-8")
        payload = build_response(self.namespace, operation, text, style=self.response_style)
        start_response("200 OK", _xml_headers(payload))
        return [payload]

    def _result(
        self,
        send_code: str | None,
        msg_type: str | None,
        reasons: Sequence[str],
        business_nos: Sequence[str | None],
    ) -> ResultReceipt:
        day, minute = _now()
        results = tuple(
            JkfResult(
                company_code=send_code,
                business_no=number,
                business_type=msg_type,
                declare_type="1",
                chk_mark="2" if reasons else "1",
                notice_date=day,
                notice_time=minute,
                note="ZJPORTRESULT",
                details=tuple(JkfResultDetail(result_info=line) for line in (reasons or [SUCCESS])),
            )
            for number in (business_nos or [None])
        )
        return ResultReceipt(results=results)

    def _read(self, msg_type: str, plaintext: bytes) -> tuple[list[str], list[str | None]]:
        """Reasons to refuse the document (empty: fine) and its business numbers."""
        try:
            root = parse_untrusted(plaintext, what="declared message")
        except CbecError as exc:
            return [f"报文格式错误: {exc.message}"], [None]
        numbers: list[str | None] = [None]
        try:
            if root.tag == "mo":
                message = parse_mo(plaintext)
                numbers = _business_nos(message)
                if message.business_type != msg_type:
                    return [f"msgType {msg_type} 与报文业务类型 {message.business_type} 不一致"], numbers
            else:
                numbers = [root.get("guid")]
                parse_element(root)
        except CbecError as exc:
            return [f"报文内容错误: {exc}"], numbers
        reasons = list(self.checker(msg_type, plaintext)) if self.checker is not None else []
        return reasons, numbers

    def _encrypted(self, params: Mapping[str, str]) -> PlatformSubmission:
        send_code = params.get("sendCode")
        msg_type = params.get("msgType")

        def answer(
            reasons: list[str],
            plaintext: bytes | None = None,
            *,
            verified: bool = False,
            numbers: Sequence[str | None] = (),
        ) -> PlatformSubmission:
            result = self._result(send_code, msg_type, reasons, numbers)
            return PlatformSubmission(
                "ReceiveEncryptDeclare", send_code, msg_type, plaintext, verified, result
            )

        account = self.accounts.get(send_code or "")
        if account is None:
            return answer([f"发送方代码未登记: {send_code}"])
        missing = [name for name in ("content", "msgType", "dataDigest") if not params.get(name)]
        if missing or msg_type is None:
            return answer([f"缺少参数: {', '.join(missing)}"])
        try:
            plaintext = AesEcbCodec(account.aes_key).decode(params["content"])
        except CbecError:
            return answer(["报文解密失败"])
        try:
            RsaDigestVerifier(account.public_key).verify(plaintext, params["dataDigest"])
        except CbecError:
            return answer(["数字签名验证失败"], plaintext)
        reasons, numbers = self._read(msg_type, plaintext)
        return answer(reasons, plaintext, verified=True, numbers=numbers)

    def _plain(self, params: Mapping[str, str]) -> PlatformSubmission:
        msg_type = params.get("xmlType")
        text = params.get("xmlStr")
        if not text or not msg_type:
            result = self._result(None, msg_type, ["缺少参数: xmlStr, xmlType"], [])
            return PlatformSubmission("ReceivedDeclare", None, msg_type, None, False, result)
        plaintext = text.encode("utf-8")
        reasons, numbers = self._read(msg_type, plaintext)
        result = self._result(None, msg_type, reasons, numbers)
        return PlatformSubmission("ReceivedDeclare", None, msg_type, plaintext, False, result)

    # ------------------------------------------------------------------ the push side

    def make_push(self, document: bytes, msg_type: str, *, aes_key: bytes | str | None) -> dict[str, str]:
        """The form fields of a push as the platform makes them (``aes_key=None``: plain content)."""
        codec: PayloadCodec = IdentityCodec() if aes_key is None else AesEcbCodec(aes_key)
        return {
            "content": codec.encode(document),
            "msg_type": msg_type,
            "data_digest": self._platform_signer.sign(document),
        }

    def push(
        self,
        url: str,
        document: bytes,
        msg_type: str,
        *,
        aes_key: bytes | str | None,
        timeout: float = 10.0,
    ) -> HttpReply:
        """Encrypt, sign and POST one receipt to the enterprise's URL; return its answer."""
        return self.push_form(url, self.make_push(document, msg_type, aes_key=aes_key), timeout=timeout)

    def push_form(
        self,
        url: str,
        form: Mapping[str, str] | bytes,
        *,
        content_type: str = "application/x-www-form-urlencoded; charset=UTF-8",
        timeout: float = 10.0,
    ) -> HttpReply:
        """POST any form (or raw body) to ``url``, as a push; for hostile and malformed pushes."""
        body = form if isinstance(form, bytes) else urlencode(dict(form)).encode("ascii")
        return post(
            self._session,
            url,
            data=body,
            headers={"Content-Type": content_type},
            timeout=(timeout, timeout),
            max_response_bytes=1024 * 1024,
            what="platform push",
        )


def _xml_headers(payload: bytes) -> list[tuple[str, str]]:
    return [("Content-Type", "text/xml; charset=utf-8"), ("Content-Length", str(len(payload)))]
