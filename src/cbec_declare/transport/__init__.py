"""Talking to the Hangzhou platform and the exchange node.

* ``<mo>`` 杭州版 messages: models, :func:`build_mo`, :func:`parse_mo`, and the converters from the
  CEB models (:mod:`cbec_declare.transport.mo`);
* §2.2 :class:`PlatformClient` (SOAP ``ReceiveEncryptDeclare`` / ``ReceivedDeclare``);
* §2.1 :class:`ReceiptReceiver` + :func:`make_wsgi_app` (receipt pushes), :func:`decode_push`;
* §2.3 :class:`NodeTransport`: :class:`SoapNodeTransport`, :class:`RestTransferDeclareTransport`,
  :class:`DirectoryTransport`;
* :class:`RetryPolicy`, :class:`AesEcbCodec` and the digest strategies;
* every wire detail as a profile setting with its default and confidence
  (:mod:`cbec_declare.transport.profiles`).
"""

from .acks import PUSH_ERROR_CODES, AckRenderer, JsonAck, TextAck, XmlAck
from .codec import (
    AesEcbCodec,
    DigestSigner,
    DigestVerifier,
    IdentityCodec,
    PayloadCodec,
    RsaDigestSigner,
    RsaDigestVerifier,
    SignerDigest,
)
from .directory import DirectoryTransport, InboxFile
from .keys import (
    generate_aes_key,
    load_aes_key,
    load_rsa_private_key,
    load_rsa_public_key,
    private_key_pkcs8_base64,
    public_key_spki_base64,
)
from .mo import (
    BusinessType,
    CebFlag,
    GoodsDeclare,
    GoodsDeclareDetail,
    GoodsDeclareModule,
    ImportOrder,
    JkfGoodsDeclar,
    JkfGoodsPurchaser,
    JkfOrderDetail,
    JkfOrderImportHead,
    JkfResult,
    JkfResultDetail,
    JkfSign,
    MoGeneric,
    MoMessage,
    OrderInfo,
    PersonalGoodsDeclar,
    PersonalGoodsDeclarReceipt,
    ResultReceipt,
    build_mo,
    import_order_from_ceb,
    parse_mo,
    personal_goods_declar_from_ceb,
)
from .node import NodeReply, NodeTransport, RestTransferDeclareTransport, SoapNodeTransport
from .platform import PlatformClient, PlatformResult
from .profiles import PlatformProfile, PushProfile, RestNodeProfile, SoapNodeProfile
from .push import DecodedPush, decode_push
from .receipts import PUSH_MSG_TYPES, CebReceiptEvent, MoReceiptEvent, ReceiptEvent
from .receiver import (
    CallbackSink,
    MemorySeenStore,
    PushResponse,
    QueueSink,
    ReceiptReceiver,
    ReceiptSink,
    SeenStore,
)
from .retry import RetryPolicy
from .wsgi import make_wsgi_app

__all__ = [
    "PUSH_ERROR_CODES",
    "PUSH_MSG_TYPES",
    "AckRenderer",
    "AesEcbCodec",
    "BusinessType",
    "CallbackSink",
    "CebFlag",
    "CebReceiptEvent",
    "DecodedPush",
    "DigestSigner",
    "DigestVerifier",
    "DirectoryTransport",
    "GoodsDeclare",
    "GoodsDeclareDetail",
    "GoodsDeclareModule",
    "IdentityCodec",
    "ImportOrder",
    "InboxFile",
    "JkfGoodsDeclar",
    "JkfGoodsPurchaser",
    "JkfOrderDetail",
    "JkfOrderImportHead",
    "JkfResult",
    "JkfResultDetail",
    "JkfSign",
    "JsonAck",
    "MemorySeenStore",
    "MoGeneric",
    "MoMessage",
    "MoReceiptEvent",
    "NodeReply",
    "NodeTransport",
    "OrderInfo",
    "PayloadCodec",
    "PersonalGoodsDeclar",
    "PersonalGoodsDeclarReceipt",
    "PlatformClient",
    "PlatformProfile",
    "PlatformResult",
    "PushProfile",
    "PushResponse",
    "QueueSink",
    "ReceiptEvent",
    "ReceiptReceiver",
    "ReceiptSink",
    "RestNodeProfile",
    "RestTransferDeclareTransport",
    "ResultReceipt",
    "RetryPolicy",
    "RsaDigestSigner",
    "RsaDigestVerifier",
    "SeenStore",
    "SignerDigest",
    "SoapNodeProfile",
    "SoapNodeTransport",
    "TextAck",
    "XmlAck",
    "build_mo",
    "decode_push",
    "generate_aes_key",
    "import_order_from_ceb",
    "load_aes_key",
    "load_rsa_private_key",
    "load_rsa_public_key",
    "make_wsgi_app",
    "parse_mo",
    "personal_goods_declar_from_ceb",
    "private_key_pkcs8_base64",
    "public_key_spki_base64",
]
