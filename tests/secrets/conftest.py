"""The ``audit`` fixture every secrets test uses: debug logging everywhere, and a collector of what the code
path produced, grepped for the known secrets once the test is done."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from helpers import secrets_audit as support


@pytest.fixture
def audit(caplog: pytest.LogCaptureFixture) -> Iterator[support.Collector]:
    support.debug_everywhere(caplog)
    collector = support.Collector()
    support.probe_capture(caplog)
    yield collector
    collector.logs(caplog.get_records("call"))
    collector.assert_clean(support.known().needles())
