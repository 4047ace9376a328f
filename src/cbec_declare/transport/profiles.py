"""Every wire detail of the Hangzhou interfaces as a setting, with its observed default and confidence.

The interface document ("数据交换接口文档") was not found in public material; everything below comes
from enterprise code that talks to the platform (``spec/hangzhou-platform.md``). Confidence: **H**
consistent in ≥2 independent sources or verified cryptographically, **M** one good source, **L**
inference. Hosts are never defaults: they come from configuration (known ones are listed for
reference only).

:class:`PlatformProfile` — §2.2 enterprise → platform (SOAP 1.1, document/literal wrapped):

* ``base_url`` — required, no default. Seen: test ``http://122.224.230.4:18003/newyorkWS/ws/``,
  production ``http://122.224.69.179:8080/newyorkWS/ws/`` (2014–2019) [M]
* ``namespace`` = ``http://ws.newyork.zjport.gov.cn/``, the wrapper element's namespace [H]
* ``encrypt_service`` = ``ReceiveEncryptDeclare``, ``encrypt_operation`` = ``receive`` [H]
* ``encrypt_params`` = ``content, msgType, dataDigest, sendCode``, in this order [H]
* ``plain_service`` = ``ReceivedDeclare``, ``plain_operation`` = ``checkReceived`` [H]
* ``plain_params`` = ``xmlStr, xmlType, sourceType``; ``plain_source_type`` = ``1`` [H]
* ``qualified_params`` = ``False``: parameters are unqualified (``targetNamespace=""``) [H]
* ``soap_action`` = ``""`` (no SOAPAction value was seen) [M]
* ``codec`` = ``aes-ecb-pkcs5-b64`` (``identity`` for test mode) [H]
* ``digest_hash`` = ``sha1`` (SHA1withRSA; whether SM2/SM3 replaced it after 2022 is unknown) [H]
* ``digest_over`` = ``plaintext``, not the ciphertext (``ciphertext`` signs the ``content`` text) [H]
* ``connect_timeout`` = 5 s, ``read_timeout`` = 30 s, ``max_response_bytes`` = 10 MiB (ours)

:class:`PushProfile` — §2.1 platform → enterprise (HTTP form POST):

* ``content_fields`` = ``content`` [H]
* ``msg_type_fields`` = ``msg_type`` [H], then the camelCase alias ``msgType`` [L]
* ``digest_fields`` = ``data_digest`` [H], then ``dataDigest`` [L]
* ``digest_hash`` = ``sha1`` over the plaintext (``digest_over``), platform key 1024-bit [H]
* ``ack`` = :class:`~cbec_declare.transport.acks.XmlAck`,
  ``<response><success>true</success></response>`` [L: what zjport checks is unknown]
* ``reject_status`` = 400 for a push we refuse (bad digest, malformed, ...) [L]
* ``failure_status`` = 500 when our own processing failed, so the platform retries [L]
* ``max_body_bytes`` = 4 MiB (a receipt push is a few KB); ``max_plaintext_bytes`` = 10 MiB (ours)
* the verification switch is not a profile setting but the receiver's ``verify`` argument
  (``True``; ``False`` is a loud, explicit opt-in)

Whether the push uses the same AES key as requests is unknown [L]: the receiver takes its own key.
What zjport checks in the ack is unknown: if it keys on HTTP 200 only, set both statuses to 200 and
rely on ``success``; as shipped, a refused push gets a non-200 so that a platform that retries on
non-200 never loses a receipt we failed to store.

:class:`SoapNodeProfile` — §2.3 (a) ``ReceiveCebDeclare.receive(content)`` on newyorkWS [M]:
``endpoint`` (required), ``namespace`` as above, ``operation`` = ``receive``, ``param`` =
``content``, ``cdata`` = ``True`` (one client wraps the DxpMsg in CDATA), timeouts 5 s / 30 s.

:class:`RestNodeProfile` — §2.3 (b) ``POST :9090/newyorkTransferWebapps/rest/transferDeclare``
[L–M]: ``url`` (required; hosts seen ``60.190.249.117:9090``, ``115.236.78.6:9090``),
``form_field`` = ``xml``, ``urlencode`` = ``True`` (one client sends the XML raw), ``payload`` =
``dxp`` (or ``ceb``: the inner message, as the observed callers send it), timeouts 5 s / 30 s.
"""

from __future__ import annotations

from typing import Any

import attrs

from .._xml import DEFAULT_MAX_BYTES
from ..errors import ConfigError
from .acks import AckRenderer, XmlAck

__all__ = [
    "ZJPORT_NAMESPACE",
    "PlatformProfile",
    "PushProfile",
    "RestNodeProfile",
    "SoapNodeProfile",
]

#: Wrapper-element namespace of every newyorkWS service [H].
ZJPORT_NAMESPACE = "http://ws.newyork.zjport.gov.cn/"

_CODECS = ("aes-ecb-pkcs5-b64", "identity")
_HASHES = ("sha1", "sha256")


def _http_url(_: Any, attribute: attrs.Attribute[Any], value: str) -> None:
    if not isinstance(value, str) or not value.startswith(("http://", "https://")):
        raise ConfigError(f"{attribute.name} must be an http(s) URL, got {value!r}", code="config.url")


def _one_of(*choices: str) -> Any:
    def check(_: Any, attribute: attrs.Attribute[Any], value: str) -> None:
        if value not in choices:
            raise ConfigError(
                f"{attribute.name} must be one of {', '.join(choices)}, got {value!r}",
                code=f"config.{attribute.name}",
            )

    return check


def _positive(_: Any, attribute: attrs.Attribute[Any], value: float) -> None:
    if not value > 0:
        raise ConfigError(
            f"{attribute.name} must be positive, got {value!r}", code=f"config.{attribute.name}"
        )


@attrs.frozen(kw_only=True)
class PlatformProfile:
    """The §2.2 platform SOAP services (see the module table)."""

    base_url: str = attrs.field(validator=_http_url)
    namespace: str = ZJPORT_NAMESPACE
    encrypt_service: str = "ReceiveEncryptDeclare"
    encrypt_operation: str = "receive"
    encrypt_params: tuple[str, str, str, str] = ("content", "msgType", "dataDigest", "sendCode")
    plain_service: str = "ReceivedDeclare"
    plain_operation: str = "checkReceived"
    plain_params: tuple[str, str, str] = ("xmlStr", "xmlType", "sourceType")
    plain_source_type: str = "1"
    qualified_params: bool = False
    soap_action: str = ""
    codec: str = attrs.field(default="aes-ecb-pkcs5-b64", validator=_one_of(*_CODECS))
    digest_hash: str = attrs.field(default="sha1", validator=_one_of(*_HASHES))
    digest_over: str = attrs.field(default="plaintext", validator=_one_of("plaintext", "ciphertext"))
    connect_timeout: float = attrs.field(default=5.0, validator=_positive)
    read_timeout: float = attrs.field(default=30.0, validator=_positive)
    max_response_bytes: int = DEFAULT_MAX_BYTES

    def url(self, service: str) -> str:
        """The port address of a service: ``base_url`` + service name (no ``?wsdl``)."""
        return self.base_url.rstrip("/") + "/" + service


@attrs.frozen(kw_only=True)
class PushProfile:
    """The §2.1 receipt push (see the module table)."""

    content_fields: tuple[str, ...] = ("content",)
    msg_type_fields: tuple[str, ...] = ("msg_type", "msgType")
    digest_fields: tuple[str, ...] = ("data_digest", "dataDigest")
    digest_hash: str = attrs.field(default="sha1", validator=_one_of(*_HASHES))
    digest_over: str = attrs.field(default="plaintext", validator=_one_of("plaintext", "ciphertext"))
    ack: AckRenderer = attrs.field(factory=XmlAck)
    reject_status: int = 400
    failure_status: int = 500
    max_body_bytes: int = 4 * 1024 * 1024
    max_plaintext_bytes: int = DEFAULT_MAX_BYTES


@attrs.frozen(kw_only=True)
class SoapNodeProfile:
    """§2.3 (a): ``ReceiveCebDeclare.receive(content)`` on the platform's newyorkWS [M]."""

    endpoint: str = attrs.field(validator=_http_url)
    namespace: str = ZJPORT_NAMESPACE
    operation: str = "receive"
    param: str = "content"
    cdata: bool = True
    qualified_params: bool = False
    soap_action: str = ""
    connect_timeout: float = attrs.field(default=5.0, validator=_positive)
    read_timeout: float = attrs.field(default=30.0, validator=_positive)
    max_response_bytes: int = DEFAULT_MAX_BYTES


@attrs.frozen(kw_only=True)
class RestNodeProfile:
    """§2.3 (b): the 方案一 component's ``rest/transferDeclare`` [L–M]."""

    url: str = attrs.field(validator=_http_url)
    form_field: str = "xml"
    urlencode: bool = True
    payload: str = attrs.field(default="dxp", validator=_one_of("dxp", "ceb"))
    connect_timeout: float = attrs.field(default=5.0, validator=_positive)
    read_timeout: float = attrs.field(default=30.0, validator=_positive)
    max_response_bytes: int = DEFAULT_MAX_BYTES
