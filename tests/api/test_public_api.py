"""The public API: every exported name resolves, lazily, and the list is deliberate."""

from __future__ import annotations

import subprocess
import sys

import pytest

import cbec_declare

EXPECTED = {
    "CbecError", "errors", "__version__", "build", "parse", "from_data", "to_data", "validate",
    "validate_or_raise", "Report", "Finding", "Severity", "sign", "verify", "VerifiedSignature", "PROFILES",
    "Signer", "SignatureAlgorithm", "SoftwareSigner", "Pkcs11Signer", "EportClientSigner", "CallableSigner",
    "load_signer", "wrap", "unwrap", "PlatformClient", "ReceiptReceiver", "make_wsgi_app", "SoapNodeTransport",
    "RestTransferDeclareTransport", "DirectoryTransport", "RetryPolicy", "Pipeline", "PipelineSettings", "Worker",
    "open_ledger", "State", "DocumentKind", "StatusChange", "SpecVersion", "ReceiptStatus", "describe_status",
    "load_config", "DeclareConfig",
}  # fmt: skip


def test_exported_names_are_the_deliberate_ones() -> None:
    models = {n for n in cbec_declare.__all__ if n[0].isupper() and n not in EXPECTED}
    assert set(cbec_declare.__all__) - models == EXPECTED
    assert "CEB311Message" in models and "InventoryHead" in models
    assert sorted(cbec_declare.__all__) == cbec_declare.__all__


def test_every_name_resolves() -> None:
    for name in cbec_declare.__all__:
        assert getattr(cbec_declare, name) is not None, name
    assert cbec_declare.__version__ == "0.1.0"
    assert cbec_declare.Pipeline.__module__ == "cbec_declare.pipeline.pipeline"


def test_unknown_names_raise_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no_such_thing"):
        cbec_declare.no_such_thing  # type: ignore[attr-defined]  # noqa: B018


def test_importing_the_package_is_cheap() -> None:
    # The layers load on first use: a bare import pulls in neither requests nor cryptography's X.509.
    code = "import sys, cbec_declare; print(sorted(m for m in ('requests', 'pkcs11', 'websockets') if m in sys.modules))"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip() == "[]"
