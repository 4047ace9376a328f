"""attrs models of every 统一版 import message and entity.

Python field names are snake_case (``order_no``); each field's spec element name (``orderNo``), its
Chinese name and its XSD facts live in the field metadata (see :mod:`cbec_declare.models._spec`).
Money and quantities are :class:`~decimal.Decimal`; ``appTime``-style fields are naive Beijing-time
:class:`~datetime.datetime`, ``declTime``-style fields :class:`~datetime.date`.
"""

from ._spec import CHINA_TZ, ChildSpec, EntitySpec, FieldSpec, Kind, new_guid
from .cancel import CEB623Message, CEB624Message, InvtCancel, InvtCancelReturn
from .common import BaseSubscribe, BaseTransfer, DeclarationMessage, ExtendMessage, ReceiptMessage
from .delivery import CEB711Message, CEB712Message, Delivery, DeliveryHead, DeliveryItem, DeliveryReturn
from .inventory import CEB621Message, CEB622Message, Inventory, InventoryHead, InventoryItem, InventoryReturn
from .logistics import (
    CEB511Message,
    CEB512Message,
    CEB513Message,
    CEB514Message,
    LogisticsHead,
    LogisticsReturn,
    LogisticsStatus,
    LogisticsStatusReturn,
)
from .message_return import CEB900Message, MessageReturn
from .order import CEB311Message, CEB312Message, Order, OrderHead, OrderItem, OrderReturn
from .payment import CEB411Message, CEB412Message, PaymentHead, PaymentReturn
from .refund import CEB625Message, CEB626Message, InvtRefund, InvtRefundHead, InvtRefundItem, InvtRefundReturn
from .tax import CEB816Message, CEB818Message, Tax, TaxHead, TaxItem, TaxStatus

#: Every message class, declarations first, keyed by root element name.
DECLARATION_MESSAGES: dict[str, type[DeclarationMessage]] = {
    cls.__ceb__.element: cls
    for cls in (
        CEB311Message,
        CEB411Message,
        CEB511Message,
        CEB513Message,
        CEB621Message,
        CEB623Message,
        CEB625Message,
        CEB711Message,
    )
}
RECEIPT_MESSAGES: dict[str, type[ReceiptMessage]] = {
    cls.__ceb__.element: cls
    for cls in (
        CEB312Message,
        CEB412Message,
        CEB512Message,
        CEB514Message,
        CEB622Message,
        CEB624Message,
        CEB626Message,
        CEB712Message,
        CEB816Message,
        CEB818Message,
        CEB900Message,
    )
}

__all__ = [
    "CHINA_TZ",
    "DECLARATION_MESSAGES",
    "RECEIPT_MESSAGES",
    "BaseSubscribe",
    "BaseTransfer",
    "CEB311Message",
    "CEB312Message",
    "CEB411Message",
    "CEB412Message",
    "CEB511Message",
    "CEB512Message",
    "CEB513Message",
    "CEB514Message",
    "CEB621Message",
    "CEB622Message",
    "CEB623Message",
    "CEB624Message",
    "CEB625Message",
    "CEB626Message",
    "CEB711Message",
    "CEB712Message",
    "CEB816Message",
    "CEB818Message",
    "CEB900Message",
    "ChildSpec",
    "DeclarationMessage",
    "Delivery",
    "DeliveryHead",
    "DeliveryItem",
    "DeliveryReturn",
    "EntitySpec",
    "ExtendMessage",
    "FieldSpec",
    "Inventory",
    "InventoryHead",
    "InventoryItem",
    "InventoryReturn",
    "InvtCancel",
    "InvtCancelReturn",
    "InvtRefund",
    "InvtRefundHead",
    "InvtRefundItem",
    "InvtRefundReturn",
    "Kind",
    "LogisticsHead",
    "LogisticsReturn",
    "LogisticsStatus",
    "LogisticsStatusReturn",
    "MessageReturn",
    "Order",
    "OrderHead",
    "OrderItem",
    "OrderReturn",
    "PaymentHead",
    "PaymentReturn",
    "ReceiptMessage",
    "Tax",
    "TaxHead",
    "TaxItem",
    "TaxStatus",
    "new_guid",
]
