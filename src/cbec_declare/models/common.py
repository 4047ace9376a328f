"""Entities shared by every declaration, and the two message base classes."""

from __future__ import annotations

from typing import Any, ClassVar

import attrs

from ..codes import SubscribeStatus
from ._spec import EntitySpec, attribute, child, children, fragment, new_guid, text

__all__ = [
    "BaseSubscribe",
    "BaseTransfer",
    "DeclarationMessage",
    "ExtendMessage",
    "ReceiptMessage",
]


@attrs.frozen(kw_only=True)
class BaseTransfer:
    """基础报文传输实体 (``ceb:BaseTransfer``): who transmits; must match the DXP client identity."""

    __ceb__: ClassVar[EntitySpec] = EntitySpec("BaseTransfer", "基础报文传输实体")

    cop_code: str = text("copCode", "传输企业代码", (1, 18))
    cop_name: str = text("copName", "传输企业名称", (0, 100))
    dxp_mode: str = text("dxpMode", "报文传输模式", 3, default="DXP")
    dxp_id: str = text("dxpId", "报文传输编号", (0, 30))
    note: str | None = text("note", "备注", (0, 1000), optional=True)


@attrs.frozen(kw_only=True)
class BaseSubscribe:
    """基础回执订阅实体 (``ceb:BaseSubscribe``): a third party subscribing to data or receipts."""

    __ceb__: ClassVar[EntitySpec] = EntitySpec("BaseSubscribe", "基础回执订阅实体")

    status: str = text("status", "订阅状态", (0, 100), default=SubscribeStatus.ALL)
    dxp_mode: str = text("dxpMode", "报文传输模式", 3, default="DXP")
    dxp_address: str = text("dxpAddress", "订阅人DXP地址", (0, 100))
    note: str | None = text("note", "备注", (0, 1000), optional=True)


@attrs.frozen(kw_only=True)
class ExtendMessage:
    """扩展自定义数据实体 (``ceb:ExtendMessage``).

    ``message`` is the content of ``ceb:Message``: one XML element as text, or ``""`` for none. The XSD
    requires the ``Message`` element itself, so it is always written.
    """

    __ceb__: ClassVar[EntitySpec] = EntitySpec("ExtendMessage", "扩展自定义数据实体")

    name: str = text("name", "名称", (0, 30))
    version: str = text("version", "版本", (0, 30))
    message: str = fragment("Message", "扩展数据", optional=False, default="")


@attrs.frozen(kw_only=True)
class DeclarationMessage:
    """Base of the messages an enterprise sends (CEB311/411/511/513/621/623/625/711).

    Subclasses add the business body (``orders``, ``inventories``, ...) named by ``__body__``;
    ``BaseTransfer``, ``BaseSubscribe`` and ``ExtendMessage`` are written after it, as the XSD orders them.
    The ``ds:Signature`` is not part of the model: the signing layer appends it to the built bytes.
    """

    __ceb__: ClassVar[EntitySpec]
    #: name of the field holding the business documents
    __body__: ClassVar[str]
    #: per-message limit on documents (XSD maxOccurs)
    MAX_DOCUMENTS: ClassVar[int] = 100
    #: whether the XSD requires ds:Signature (CEB621/623/625/711)
    SIGNATURE_REQUIRED: ClassVar[bool] = False

    guid: str = attribute("guid", "报文唯一序号", 36, default=attrs.Factory(new_guid))
    version: str = attribute("version", "报文版本", (1, 10), default="1.0")
    base_transfer: BaseTransfer = child("BaseTransfer", "基础报文传输实体", BaseTransfer, tail=True)
    base_subscribes: tuple[BaseSubscribe, ...] = children(
        "BaseSubscribe", "基础回执订阅实体", BaseSubscribe, min_occurs=0, max_occurs=5, tail=True
    )
    extend_message: ExtendMessage | None = child(
        "ExtendMessage", "扩展自定义数据实体", ExtendMessage, optional=True, tail=True
    )

    @property
    def message_type(self) -> str:
        return self.__ceb__.element

    @property
    def documents(self) -> tuple[Any, ...]:
        """The business documents of this message (orders, payments, ...)."""
        return getattr(self, self.__body__)  # type: ignore[no-any-return]

    @classmethod
    def batches(
        cls,
        documents: Any,
        *,
        base_transfer: BaseTransfer,
        base_subscribes: tuple[BaseSubscribe, ...] = (),
        extend_message: ExtendMessage | None = None,
        version: str = "1.0",
        size: int | None = None,
    ) -> list[Any]:
        """Split any number of documents into messages of at most ``size`` (default: the spec limit)."""
        from ..errors import ModelError

        limit = cls.MAX_DOCUMENTS if size is None else size
        if not 1 <= limit <= cls.MAX_DOCUMENTS:
            raise ModelError(
                f"batch size must be between 1 and {cls.MAX_DOCUMENTS} for {cls.__ceb__.element}",
                code="model.batch_size",
            )
        docs = tuple(documents)
        common: dict[str, Any] = {
            "base_transfer": base_transfer,
            "base_subscribes": base_subscribes,
            "extend_message": extend_message,
            "version": version,
        }
        return [cls(**{cls.__body__: docs[i : i + limit], **common}) for i in range(0, len(docs), limit)]


@attrs.frozen(kw_only=True)
class ReceiptMessage:
    """Base of what customs and the e-port send back (CEB312/412/.../712, 816, 818, 900)."""

    __ceb__: ClassVar[EntitySpec]
    __body__: ClassVar[str]

    guid: str = attribute("guid", "报文唯一序号", 36, default=attrs.Factory(new_guid))
    version: str = attribute("version", "报文版本", (1, 10), default="1.0")

    @property
    def message_type(self) -> str:
        return self.__ceb__.element

    @property
    def documents(self) -> tuple[Any, ...]:
        return getattr(self, self.__body__)  # type: ignore[no-any-return]
