"""Test doubles and helpers that ship with cbec-declare, for its own tests and for yours.

- :mod:`cbec_declare.testing.softhsm`: throw-away SoftHSM2 tokens with RSA keys and certificates.
- :mod:`cbec_declare.testing.eport_fake`: :class:`EportFakeServer`, a local stand-in for the
  中国电子口岸 card client's WebSocket service, backed by any signer.
"""

from __future__ import annotations

from .eport_fake import EportFakeServer
from .softhsm import (
    KeySpec,
    SoftHsm,
    SoftHsmToken,
    TokenKey,
    TokenSpec,
    create_softhsm,
    softhsm_missing_reason,
)

__all__ = [
    "EportFakeServer",
    "KeySpec",
    "SoftHsm",
    "SoftHsmToken",
    "TokenKey",
    "TokenSpec",
    "create_softhsm",
    "softhsm_missing_reason",
]
