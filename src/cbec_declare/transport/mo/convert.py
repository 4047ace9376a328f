"""One business model, two messages: the ``<mo>`` 杭州版 messages from the CEB models.

An integrator fills a CEB :class:`~cbec_declare.models.Order` (or
:class:`~cbec_declare.models.Inventory`) once; :func:`import_order_from_ceb` and
:func:`personal_goods_declar_from_ceb` derive the ``<mo>`` ``IMPORTORDER`` / ``PERSONAL_GOODS_DECLAR``
for the same document, taking the few ``<mo>``-only values as keyword arguments.

The field mapping is **our inference** from the element names and their Chinese meanings; no
official mapping between the two formats was found. Confidence per field:

``IMPORTORDER`` ← CEB311 ``Order`` (``<mo>`` element ← CEB field or argument [confidence]):

* jkfSign/companyCode ← ``company_code``, the 10-character sendCode [H]
* jkfSign/businessNo ← ``orderNo`` [M]; jkfSign/declareType ← ``appType`` (1 新增, 2 变更) [L]
* jkfSign/cebFlag ← ``ceb_flag``, default ``02`` (the enterprise sends the CEB message too) [H]
* companyCode / companyName ← ``ebpCode`` / ``ebpName`` (电商平台) [L]
* eCommerceCode / eCommerceName ← ``ebcCode`` / ``ebcName`` (电商企业) [M]
* orderNo, discount, currCode ← ``orderNo``, ``discount``, ``currency`` [M]
* orderGoodsAmount ← ``goodsValue``; orderTaxAmount ← ``taxTotal``; feeAmount ← ``freight`` [M]
* orderTotalAmount and totalAmount ← ``acturalPaid`` [L]
* payCompanyCode / payNumber ← ``payCode`` / ``payTransactionId`` [M]
* consignee, consigneeTel, consigneeAddress ← ``consignee``, ``consigneeTelephone``,
  ``consigneeAddress`` [H]; consigneeDitrict ← ``consigneeDistrict`` [M]
* batchNumbers, note ← ``batchNumbers``, ``note`` [H]
* purchaserId and jkfGoodsPurchaser/id ← ``buyerRegNo`` [M]
* jkfGoodsPurchaser name / telNumber / paperNumber ← ``buyerName`` / ``buyerTelephone`` /
  ``buyerIdNumber`` [M]; paperType ← ``buyerIdType`` with 1 → ``01`` (身份证) [L]
* tradeTime ← ``trade_time``, default ``appTime`` [L]; totalCount ← ``total_count``, default the
  sum of the items' ``qty`` [L]
* jkfOrderDetail goodsOrder / goodsName ← ``gnum`` / ``itemName`` [H]; goodsModel, originCountry,
  unitPrice, currency, goodsCount, goodsUnit, barCode, note ← ``gmodel``, ``country``, ``price``,
  ``currency``, ``qty``, ``unit``, ``barCode``, ``note`` [M]
* jkfOrderDetail codeTs / grossWeight ← ``item_code_ts`` / ``item_gross_weight`` by ``gnum`` (the
  CEB order has neither) [L]

``PERSONAL_GOODS_DECLAR`` ← CEB621 ``Inventory`` (the request shape itself is [M]):

* accountBookNo ← ``emsNo`` [M]; preEntryNumber and jkfSign/businessNo ← ``copNo``
  (``pre_entry_number`` overrides) [L]
* importType ← ``import_type``, default from tradeMode: 1210 → ``1`` (保税), else ``0`` [L]
* inOutDateStr ← ``ieDate``, else ``declTime`` [M]; iePort / declPort ← ``portCode`` /
  ``customsCode`` [M]
* trafMode, voyageNo, trafName ← ``trafMode``, ``voyageNo``, ``trafNo`` [M]
* declareCompanyCode / declareCompanyName ← ``agentCode`` / ``agentName`` [M]
* eCommerceCode / eCommerceName, orderNo, wayBill ← ``ebcCode`` / ``ebcName``, ``orderNo``,
  ``logisticsNo`` [M]
* tradeCountry, packNo, grossWeight, netWeight ← ``country``, ``packNo``, the weights [M]
* warpType, remark, customsField ← ``wrapType``, ``note``, ``loctNo`` [L]
* consignee ← ``buyerName`` [L]; paperType / paperNumber ← ``buyerIdType`` (1 → ``01``) /
  ``buyerIdNumber`` [L]
* worth ← the sum of the items' ``totalPrice`` [L]; mainGName ← the first item's ``gname`` [L]
* internalAreaCompanyNo / internalAreaCompanyName ← ``areaCode`` / ``areaName`` [M]
* goodsDeclareDetail codeTs ← ``gcode`` (``item_code_ts`` overrides: 行邮税号 may differ) [L]
* goodsItemNo, goodsName, goodsModel ← ``itemNo``, ``gname``, ``gmodel`` [M]
* declPrice / declTotalPrice / declareCount ← ``price`` / ``totalPrice`` / ``qty`` [M]
* firstUnit / firstCount, secondUnit / secondCount ← ``unit1`` / ``qty1``, ``unit2`` / ``qty2`` [M]
* productRecordNo ← ``itemRecordNo`` [L]
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal

from ...models import Inventory, Order
from .models import (
    CebFlag,
    GoodsDeclare,
    GoodsDeclareDetail,
    GoodsDeclareModule,
    ImportOrder,
    JkfGoodsPurchaser,
    JkfOrderDetail,
    JkfOrderImportHead,
    JkfSign,
    OrderInfo,
    PersonalGoodsDeclar,
)

__all__ = ["PAPER_TYPES", "import_order_from_ceb", "personal_goods_declar_from_ceb"]

#: CEB ``buyerIdType`` → ``<mo>`` ``paperType`` [L: the sample writes ``01`` for an ID card].
PAPER_TYPES: Mapping[str, str] = {"1": "01", "2": "02"}


def _paper_type(id_type: str) -> str:
    return PAPER_TYPES.get(id_type, id_type)


def import_order_from_ceb(
    order: Order,
    *,
    company_code: str,
    ceb_flag: CebFlag | str = CebFlag.ENTERPRISE_CEB,
    declare_type: str | None = None,
    trade_time: datetime | None = None,
    pay_type: str | None = None,
    insure_amount: Decimal | None = None,
    consignee_email: str | None = None,
    post_mode: str | None = None,
    sender_country: str | None = None,
    sender_name: str | None = None,
    logistics_code: str | None = None,
    logistics_name: str | None = None,
    zip_code: str | None = None,
    way_bills: str | None = None,
    rate: Decimal | None = None,
    user_protocol: str | None = None,
    total_count: Decimal | None = None,
    purchaser_email: str | None = None,
    purchaser_address: str | None = None,
    item_code_ts: Mapping[int, str] | None = None,
    item_gross_weight: Mapping[int, Decimal] | None = None,
    note: str | None = None,
) -> ImportOrder:
    """The ``IMPORTORDER`` message for one CEB order (see the module table for the mapping).

    ``company_code`` is the sender's 10-character registration code (the SOAP ``sendCode``);
    ``item_code_ts`` and ``item_gross_weight`` map an item's ``gnum`` to its 行邮税号 / gross weight,
    which the CEB order does not carry.
    """
    head = order.head
    code_ts = item_code_ts or {}
    weights = item_gross_weight or {}
    details = tuple(
        JkfOrderDetail(
            goods_order=item.gnum,
            goods_name=item.item_name,
            code_ts=code_ts.get(item.gnum),
            goods_model=item.gmodel,
            origin_country=item.country,
            unit_price=item.price,
            currency=item.currency,
            goods_count=item.qty,
            goods_unit=item.unit,
            gross_weight=weights.get(item.gnum),
            bar_code=item.bar_code,
            note=item.note,
        )
        for item in order.items
    )
    info = OrderInfo(
        sign=JkfSign(
            company_code=company_code,
            business_no=head.order_no,
            business_type=ImportOrder.BUSINESS_TYPE,
            declare_type=declare_type if declare_type is not None else head.app_type,
            ceb_flag=ceb_flag,
            note=note,
        ),
        head=JkfOrderImportHead(
            company_name=head.ebp_name,
            company_code=head.ebp_code,
            ie_flag="I",
            pay_type=pay_type,
            pay_company_code=head.pay_code,
            pay_number=head.pay_transaction_id,
            order_total_amount=head.actual_paid,
            order_goods_amount=head.goods_value,
            discount=head.discount,
            order_no=head.order_no,
            order_tax_amount=head.tax_total,
            fee_amount=head.freight,
            insure_amount=insure_amount,
            e_commerce_code=head.ebc_code,
            e_commerce_name=head.ebc_name,
            trade_time=trade_time if trade_time is not None else head.app_time,
            curr_code=head.currency,
            total_amount=head.actual_paid,
            consignee_email=consignee_email,
            consignee_tel=head.consignee_telephone,
            consignee=head.consignee,
            consignee_address=head.consignee_address,
            total_count=total_count
            if total_count is not None
            else sum((i.qty for i in order.items), Decimal(0)),
            batch_numbers=head.batch_numbers,
            consignee_district=head.consignee_district,
            post_mode=post_mode,
            sender_country=sender_country,
            sender_name=sender_name,
            purchaser_id=head.buyer_reg_no,
            logis_company_name=logistics_name,
            logis_company_code=logistics_code,
            zip_code=zip_code,
            note=head.note,
            way_bills=way_bills,
            rate=rate,
            user_protocol=user_protocol,
        ),
        details=details,
        purchaser=JkfGoodsPurchaser(
            id=head.buyer_reg_no,
            name=head.buyer_name,
            email=purchaser_email,
            tel_number=head.buyer_telephone,
            paper_type=_paper_type(head.buyer_id_type),
            paper_number=head.buyer_id_number,
            address=purchaser_address,
        ),
    )
    return ImportOrder(orders=(info,))


def _import_type(trade_mode: str) -> str:
    # 1210 保税电商 → 1 (保税进口); 9610 直购 and others → 0 (一般进口). Inferred [L].
    return "1" if trade_mode == "1210" else "0"


def personal_goods_declar_from_ceb(
    inventory: Inventory,
    *,
    company_code: str,
    ceb_flag: CebFlag | str = CebFlag.ENTERPRISE_CEB,
    declare_type: str | None = None,
    pre_entry_number: str | None = None,
    import_type: str | None = None,
    destination_port: str | None = None,
    declare_company_type: str | None = None,
    entering_person: str | None = None,
    entering_company_name: str | None = None,
    declarant_no: str | None = None,
    sender_name: str | None = None,
    sender_country: str | None = None,
    sender_city: str | None = None,
    application_form_no: str | None = None,
    is_authorize: str | None = "1",
    item_code_ts: Mapping[int, str] | None = None,
    item_gross_weight: Mapping[int, Decimal] | None = None,
    item_use_to: Mapping[int, str] | None = None,
    note: str | None = None,
) -> PersonalGoodsDeclar:
    """The ``PERSONAL_GOODS_DECLAR`` 个人物品申报单 for one CEB inventory (mapping in the module doc)."""
    head = inventory.head
    code_ts = item_code_ts or {}
    weights = item_gross_weight or {}
    use_to = item_use_to or {}
    business_no = pre_entry_number or head.cop_no or head.order_no
    in_out = (
        datetime.combine(head.ie_date, datetime.min.time())
        if head.ie_date is not None
        else datetime.combine(head.decl_time, datetime.min.time())
    )
    details = tuple(
        GoodsDeclareDetail(
            goods_order=item.gnum,
            code_ts=code_ts.get(item.gnum, item.gcode),
            goods_item_no=item.item_no,
            goods_name=item.gname,
            goods_model=item.gmodel,
            origin_country=item.country,
            trade_curr=item.currency,
            trade_total=item.total_price,
            decl_price=item.price,
            decl_total_price=item.total_price,
            use_to=use_to.get(item.gnum),
            declare_count=item.qty,
            goods_unit=item.unit,
            goods_gross_weight=weights.get(item.gnum),
            first_unit=item.unit1,
            first_count=item.qty1,
            second_unit=item.unit2,
            second_count=item.qty2,
            product_record_no=item.item_record_no,
        )
        for item in inventory.items
    )
    module = GoodsDeclareModule(
        sign=JkfSign(
            company_code=company_code,
            business_no=business_no,
            business_type=PersonalGoodsDeclar.BUSINESS_TYPE,
            declare_type=declare_type if declare_type is not None else head.app_type,
            ceb_flag=ceb_flag,
            note=note,
        ),
        declare=GoodsDeclare(
            account_book_no=head.ems_no,
            ie_flag=head.ie_flag,
            pre_entry_number=business_no,
            import_type=import_type if import_type is not None else _import_type(head.trade_mode),
            in_out_date=in_out,
            ie_port=head.port_code,
            destination_port=destination_port,
            traf_name=head.traf_no,
            voyage_no=head.voyage_no,
            traf_mode=head.traf_mode,
            declare_company_type=declare_company_type,
            declare_company_code=head.agent_code,
            declare_company_name=head.agent_name,
            e_commerce_code=head.ebc_code,
            e_commerce_name=head.ebc_name,
            order_no=head.order_no,
            way_bill=head.logistics_no,
            trade_country=head.country,
            pack_no=head.pack_no,
            gross_weight=head.gross_weight,
            net_weight=head.net_weight,
            warp_type=head.wrap_type,
            remark=head.note,
            decl_port=head.customs_code,
            entering_person=entering_person,
            entering_company_name=entering_company_name
            if entering_company_name is not None
            else head.agent_name,
            declarant_no=declarant_no,
            customs_field=head.loct_no,
            sender_name=sender_name,
            consignee=head.buyer_name,
            sender_country=sender_country,
            sender_city=sender_city,
            paper_type=_paper_type(head.buyer_id_type),
            paper_number=head.buyer_id_number,
            worth=sum((i.total_price for i in inventory.items), Decimal(0)),
            curr_code=head.currency,
            main_g_name=inventory.items[0].gname if inventory.items else None,
            internal_area_company_no=head.area_code,
            internal_area_company_name=head.area_name,
            application_form_no=application_form_no,
            is_authorize=is_authorize,
        ),
        details=details,
    )
    return PersonalGoodsDeclar(modules=(module,))
