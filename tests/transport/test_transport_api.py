"""The public surface of cbec_declare.transport and cbec_declare.sandbox (as httpx checks its own)."""

from __future__ import annotations

import importlib

import pytest

REQUIRED = {
    "cbec_declare.transport": {
        "AesEcbCodec",
        "DecodedPush",
        "DirectoryTransport",
        "ImportOrder",
        "NodeTransport",
        "PersonalGoodsDeclar",
        "PlatformClient",
        "PlatformProfile",
        "ReceiptReceiver",
        "RestTransferDeclareTransport",
        "ResultReceipt",
        "RetryPolicy",
        "SoapNodeTransport",
        "build_mo",
        "decode_push",
        "make_wsgi_app",
        "parse_mo",
    },
    "cbec_declare.sandbox": {"Faults", "LocalServer", "NodeServer", "NodeVerdict", "PlatformServer"},
}


@pytest.mark.parametrize("module_name", sorted(REQUIRED))
def test_exported_members(module_name: str) -> None:
    module = importlib.import_module(module_name)
    exported = list(module.__all__)
    assert len(set(exported)) == len(exported)
    for name in exported:
        assert getattr(module, name) is not None, name
    assert REQUIRED[module_name] <= set(exported)
