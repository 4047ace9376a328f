"""Local stand-ins for the remote parties, on 127.0.0.1, for tests and trials.

* :class:`PlatformServer` — the zjport platform: §2.2 SOAP services (decrypts, verifies, answers a
  ``<mo>`` RESULT) and §2.1 receipt pushes to a registered URL;
* :class:`NodeServer` — the exchange-node entry points (SOAP ``ReceiveCebDeclare``, REST
  ``transferDeclare``) with an ``on_message`` hook returning a :class:`NodeVerdict`;
* :class:`LocalServer` — the threaded keep-alive WSGI server under both, with :class:`Faults`
  (drop, status, delay, hang) consulted per request.

Nothing here talks to anything but 127.0.0.1.
"""

from ._server import Fault, Faults, LocalServer, RecordedRequest
from .config import (
    BusinessConfig,
    ChannelFaults,
    FaultConfig,
    PushConfig,
    PushFaults,
    SandboxConfig,
    TimingConfig,
)
from .credentials import SandboxCredentials
from .customs import CustomsSimulator
from .node import NodeServer, NodeSubmission, NodeVerdict
from .platform import EnterpriseAccount, PlatformServer, PlatformSubmission
from .sandbox import DocumentState, FaultRule, Sandbox, SandboxStats

__all__ = [
    "BusinessConfig",
    "ChannelFaults",
    "CustomsSimulator",
    "DocumentState",
    "EnterpriseAccount",
    "Fault",
    "FaultConfig",
    "FaultRule",
    "Faults",
    "LocalServer",
    "NodeServer",
    "NodeSubmission",
    "NodeVerdict",
    "PlatformServer",
    "PlatformSubmission",
    "PushConfig",
    "PushFaults",
    "RecordedRequest",
    "Sandbox",
    "SandboxConfig",
    "SandboxCredentials",
    "SandboxStats",
    "TimingConfig",
]
