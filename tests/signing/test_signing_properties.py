"""Property: for any message the builder can write, the fast path equals the generic path and verifies."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from cbec_declare.messages import build
from cbec_declare.models import CEB311Message, CEB621Message, CEB711Message
from cbec_declare.signing import sign, sign_canonical, verify
from helpers.strategies import model
from signing.signing_support import remove_signature, rsa_signer


@pytest.mark.parametrize("cls", [CEB311Message, CEB621Message, CEB711Message])
def test_fast_and_generic_paths_agree_on_arbitrary_messages(cls: type[Any]) -> None:
    signer = rsa_signer(1024)  # PKCS#1 v1.5 is deterministic, so whole outputs can be compared

    @settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(model(cls))
    def check(message: Any) -> None:
        unsigned = build(message)
        fast = sign_canonical(unsigned, signer)
        assert fast == sign(unsigned, signer)
        assert remove_signature(fast) == unsigned
        assert verify(fast, certificate=signer.certificate).key_name == signer.key_name

    check()
